// Strategy `replace`: the surrogate's prediction is the answer when a computed bound of
// its relative energy-norm error passes a tolerance, after at most a few CG steps with a
// preconditioner built once per mesh; otherwise the classical solve continues from it.
#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/hybrid_strategy.h>

#include "common.h"

#include <cmath>
#include <limits>
#include <string>

namespace mpno
{
  namespace HybridStrategy
  {
    /**
     * The certificate: for u with residual r = b - A u and e = u_h - u (u_h the discrete
     * solution, so r = A e),
     *   ||e||_A^2 = r^T A^{-1} r <= C r^T B_0 r,
     * with B_0 and C the system's reference preconditioner and bound (e.g. the AMG of the
     * coefficient-1 operator A_0 and C = 1 / (a_min lambda_min(B_0 A_0)), since
     * A >= a_min A_0). With ||u_h||_A >= ||u||_A - ||e||_A the relative error is then at most
     *   eta = sqrt(C r^T B_0 r) / (||u||_A - sqrt(C r^T B_0 r)),   ||u||_A^2 = u^T (b - r).
     * B_0 needs no setup per instance, unlike the instance's AMG. CG with B_0 from the
     * prediction computes r^T B_0 r in every step, so each step costs one product with A and
     * one V-cycle; an accepted answer's eta is recomputed from its true residual.
     * The bound needs B_0 symmetric positive definite and C valid (for Darcy: lambda_min
     * estimated by Lanczos within the margin of plugin/source/problem/darcy.cc). A problem
     * without a reference preconditioner gets no certificate: the classical solve runs.
     */
    class Replace : public Interface
    {
    public:
      static void
      declare_parameters(dealii::ParameterHandler &prm)
      {
        prm.enter_subsection("Replace");
        prm.declare_entry("Error tolerance",
                          "0.02",
                          dealii::Patterns::Double(0),
                          "An answer is accepted when the bound of its relative energy-norm "
                          "error ||u - u_h||_A / ||u_h||_A (u_h the discrete solution) is at "
                          "most this; must be > 0 and < 1.");
        prm.declare_entry("Max certificate iterations",
                          "10",
                          dealii::Patterns::Integer(0, 10000),
                          "CG steps with the problem's reference preconditioner (built once per "
                          "mesh) allowed from the prediction before the classical solve takes over "
                          "(0: accept or reject the prediction itself).");
        prm.declare_entry("Initial guess",
                          "prediction",
                          dealii::Patterns::Selection("prediction|zero"),
                          "Where the certified iteration starts: the surrogate's prediction, or zero "
                          "(the same certified solve without a surrogate: the baseline that shows "
                          "what the prediction saves).");
        prm.leave_subsection();
      }

      void
      parse_parameters(dealii::ParameterHandler &prm) override
      {
        prm.enter_subsection("Replace");
        tolerance      = prm.get_double("Error tolerance");
        max_iterations = prm.get_integer("Max certificate iterations");
        from_zero      = prm.get("Initial guess") == "zero";
        prm.leave_subsection();
        if (!(tolerance > 0 && tolerance < 1))
          throw std::invalid_argument("entry 'Hybrid solver/Replace/Error tolerance' must be > 0 and < 1, got " +
                                      std::to_string(tolerance));
      }

      bool
      uses_prediction() const override
      {
        return !from_zero;
      }

      Result
      solve(const LinearSystem           &system,
            const dealii::Vector<double> *prediction,
            dealii::Vector<double>       &solution,
            const KrylovSettings         &settings) override
      {
        Result result;
        solution.reinit(system.rhs->size());
        if (!from_zero)
          {
            result.fallback_reason = prediction_problem(system, prediction);
            if (result.fallback_reason.empty())
              {
                solution               = *prediction;
                result.used_prediction = true;
              }
          }
        system.constraints->distribute(solution);
        const double initial_residual = system.relative_residual(solution);
        // A rejected prediction falls back to the classical solve (from zero).
        if (system.rhs->l2_norm() > 0 && result.fallback_reason.empty())
          {
            if (system.reference_preconditioner == nullptr || !(system.reference_bound > 0))
              result.fallback_reason = "the problem provides no reference preconditioner with its bound "
                                       "(LinearSystem::reference_preconditioner), so no error bound: the "
                                       "classical solve continued";
            else
              certify(system, solution, result);
          }
        if (result.certified)
          {
            result.krylov.initial_relative_residual = initial_residual;
            result.krylov.final_relative_residual   = system.relative_residual(solution);
            result.krylov.iterations                = result.strategy_iterations;
            return result;
          }
        if (result.fallback_reason.empty())
          result.fallback_reason = "the error bound " + std::to_string(result.error_bound) + " is above " +
                                   std::to_string(tolerance) + " after " + std::to_string(result.strategy_iterations) +
                                   " certificate iterations; the classical solve continued";
        // The certificate steps count against the iteration budget.
        KrylovSettings rest = settings;
        rest.max_iterations -= std::min(rest.max_iterations, result.strategy_iterations);
        result.krylov                           = solve_cg(system, solution, rest);
        result.krylov.initial_relative_residual = initial_residual;
        result.krylov.iterations += result.strategy_iterations;
        return result;
      }

    private:
      double       tolerance      = 0.02;
      unsigned int max_iterations = 10;
      bool         from_zero      = false;

      /** The relative error bound eta of u from r^T B_0 r and ||u||_A^2 (infinite when
       *  the bound exceeds ||u||_A). */
      static double
      relative_bound(const double C, const double rz, const double u_energy_squared)
      {
        const double e = std::sqrt(C * rz);
        const double u = std::sqrt(std::max(0., u_energy_squared));
        return u > e ? e / (u - e) : std::numeric_limits<double>::infinity();
      }

      /**
       * CG with B_0 from @p u until the bound passes (result.certified) or the iterations
       * are spent; @p u is the last iterate, always finite. A negative r^T B_0 r (B_0 not
       * positive definite) stops with a reason and never certifies. The recurrences are
       * written out (not deal.II's SolverCG) because the bound needs r^T B_0 r and u^T r of
       * every iterate and must stop CG the moment it passes.
       */
      void
      certify(const LinearSystem &system, dealii::Vector<double> &u, Result &result) const
      {
        const auto                   &B = *system.reference_preconditioner;
        const double                  C = system.reference_bound;
        const dealii::Vector<double> &b = *system.rhs;

        dealii::Vector<double> r, z(u.size()), p(u.size()), q(u.size());
        // r, z = B_0 r and p from the true residual of u.
        const auto restart = [&]() {
          residual(system, u, r);
          B.vmult(z, r);
          system.constraints->set_zero(z);
          p = z;
          return r * z;
        };
        const auto not_definite = [&](const double rz) {
          if (rz >= -1e-12 * r.l2_norm() * z.l2_norm())
            return false;
          result.fallback_reason =
            "the reference preconditioner is not positive definite (r^T B_0 r = " + std::to_string(rz) +
            "); the classical solve continued";
          return true;
        };
        double rz = restart();
        for (unsigned int k = 0;; ++k)
          {
            result.strategy_iterations = k;
            if (not_definite(rz))
              return;
            result.error_bound = relative_bound(C, std::max(0., rz), u * b - u * r);
            if (result.error_bound <= tolerance)
              {
                // Confirm with the true residual (the recursive one drifts in rounding);
                // a failed confirmation restarts CG from it.
                rz = restart();
                if (not_definite(rz))
                  return;
                result.error_bound = relative_bound(C, std::max(0., rz), u * b - u * r);
                if (result.error_bound <= tolerance)
                  {
                    result.certified = true;
                    return;
                  }
              }
            if (k == max_iterations)
              return;
            system.matrix->vmult(q, p);
            system.constraints->set_zero(q);
            const double pq    = p * q;
            const double alpha = rz / pq;
            if (!(pq > 0) || !std::isfinite(alpha))
              {
                result.fallback_reason = "the certificate iteration broke down (p^T A p = " + std::to_string(pq) +
                                         "); the classical solve continued";
                return;
              }
            u.add(alpha, p);
            r.add(-alpha, q);
            B.vmult(z, r);
            system.constraints->set_zero(z);
            const double rz_next = r * z;
            p.sadd(rz_next / rz, 1., z);
            rz = rz_next;
          }
      }
    };
  } // namespace HybridStrategy
} // namespace mpno

MPNO_REGISTER_HYBRID_STRATEGY(mpno::HybridStrategy::Replace,
                              "replace",
                              "the surrogate's prediction, improved by at most `Max certificate iterations` CG "
                              "steps with the problem's reference preconditioner (built once per mesh), is the "
                              "answer when a computed bound of its relative energy-norm error is at most `Error "
                              "tolerance` (no AMG setup for the instance); otherwise CG with the instance's "
                              "preconditioner continues from it to the residual tolerance")
