// Strategy `preconditioner`: the neural operator applied to the residual as a nonlinear
// preconditioner inside flexible CG, alone or composed with a classical part that takes
// the error the operator cannot represent (HINTS, Zhang et al. 2024; FCG-NO, Rudikov et
// al. 2024). The true residual decides convergence; stagnation, divergence or non-finite
// values hand the solve to CG with the problem's preconditioner.
#include <deal.II/base/parameter_handler.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>

#include <mpno/coupling/composed_preconditioner.h>
#include <mpno/plugin/hybrid_strategy.h>

#include "common.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpno
{
  namespace HybridStrategy
  {
    namespace
    {
      /** Thrown by the preconditioner on a non-finite correction. */
      struct NonFiniteCorrection : std::runtime_error
      {
        using std::runtime_error::runtime_error;
      };

      /** The parts of strategy `preconditioner`'s composition: the operator (checked for
       *  non-finite values, with `energy_scaling` the energy-optimal multiple of its
       *  correction), then the classical part on what it leaves: d = B s with B the
       *  problem's preconditioner, or damped Jacobi sweeps on A d = s; with `symmetric`,
       *  the classical part before the operator as well (pre- and post-smoothing around
       *  the operator's correction). No classical part for `none`. */
      std::vector<ComposedPreconditioner::Part>
      composition(const LinearSystem               &system,
                  const Interface::SurrogateAction &surrogate,
                  const std::string                &classical,
                  const unsigned int                jacobi_sweeps,
                  const bool                        symmetric,
                  const bool                        energy_scaling,
                  const dealii::Vector<double>     &inverse_diagonal)
      {
        const ComposedPreconditioner::Part operator_part{
          [&surrogate](dealii::Vector<double> &d, const dealii::Vector<double> &s) {
            surrogate(s, d);
            for (const double v : d)
              if (!std::isfinite(v))
                throw NonFiniteCorrection("the surrogate's correction has non-finite values");
          },
          energy_scaling};
        if (classical == "none")
          return {operator_part};
        ComposedPreconditioner::Part classical_part;
        if (classical == "amg")
          classical_part.apply = [&system](dealii::Vector<double> &d, const dealii::Vector<double> &s) {
            system.get_preconditioner().vmult(d, s);
          };
        else
          classical_part.apply = [&system, &inverse_diagonal, jacobi_sweeps](dealii::Vector<double>       &d,
                                                                             const dealii::Vector<double> &s) {
            dealii::Vector<double> ad(s.size());
            d = 0.;
            for (unsigned int sweep = 0; sweep < jacobi_sweeps; ++sweep)
              {
                system.matrix->vmult(ad, d);
                ad.sadd(-1., 1., s);
                ad.scale(inverse_diagonal);
                d.add(2. / 3., ad);
              }
          };
        if (symmetric)
          return {classical_part, operator_part, classical_part};
        return {operator_part, classical_part};
      }
    } // namespace

    class NeuralPreconditioner : public Interface
    {
    public:
      static void
      declare_parameters(dealii::ParameterHandler &prm)
      {
        prm.enter_subsection("Preconditioner");
        prm.declare_entry("Classical part",
                          "amg",
                          dealii::Patterns::Selection("amg|jacobi|none"),
                          "What follows the operator in each application z = NO(r) (and, with "
                          "`Symmetric`, precedes it): amg (one application of the problem's "
                          "preconditioner to r - A z), jacobi (`Jacobi sweeps` damped Jacobi sweeps on "
                          "it) or none (the operator alone; `Symmetric` then has no effect).");
        prm.declare_entry("Jacobi sweeps",
                          "2",
                          dealii::Patterns::Integer(1, 100),
                          "Damped Jacobi sweeps (omega = 2/3) of the classical part `jacobi`.");
        prm.declare_entry("Symmetric",
                          "false",
                          dealii::Patterns::Bool(),
                          "Whether the classical part is applied before the operator as well: z = C r, "
                          "then the operator and C on what each leaves (pre- and post-smoothing around "
                          "the operator's correction). Two classical applications per flexible CG "
                          "iteration.");
        prm.declare_entry("Energy-optimal scaling",
                          "true",
                          dealii::Patterns::Bool(),
                          "Whether the operator's correction c of a residual s is scaled to the multiple "
                          "alpha c closest to the error A^{-1} s in the energy norm, alpha = c^T s / c^T "
                          "A c, so that the operator's step never increases the energy-norm error "
                          "(dropped when c^T A c is not positive); false: c as the operator gives it.");
        prm.declare_entry("Max FCG iterations",
                          "100",
                          dealii::Patterns::Integer(1, 100000),
                          "Flexible CG iterations before the solve is handed to CG with the "
                          "problem's preconditioner (a useless operator stagnates).");
        prm.leave_subsection();
      }

      void
      parse_parameters(dealii::ParameterHandler &prm) override
      {
        prm.enter_subsection("Preconditioner");
        classical      = prm.get("Classical part");
        jacobi_sweeps  = prm.get_integer("Jacobi sweeps");
        symmetric      = prm.get_bool("Symmetric");
        energy_scaling = prm.get_bool("Energy-optimal scaling");
        max_iterations = prm.get_integer("Max FCG iterations");
        prm.leave_subsection();
      }

      bool
      uses_prediction() const override
      {
        return false;
      }

      bool
      uses_surrogate_action() const override
      {
        return true;
      }

      Result
      solve(const LinearSystem &system,
            const dealii::Vector<double> *,
            dealii::Vector<double> &solution,
            const KrylovSettings   &settings) override
      {
        Result result;
        solution.reinit(system.rhs->size());
        const double rhs_norm = system.rhs->l2_norm();
        if (!surrogate_action)
          result.fallback_reason = "no surrogate action was set";
        else if (rhs_norm > 0)
          {
            dealii::Vector<double> inverse_diagonal(solution.size());
            if (classical == "jacobi")
              for (unsigned int i = 0; i < solution.size(); ++i)
                {
                  const double d      = system.matrix->diag_element(i);
                  inverse_diagonal[i] = d != 0. ? 1. / d : 0.;
                }
            const ComposedPreconditioner preconditioner(system,
                                                        composition(system,
                                                                    surrogate_action,
                                                                    classical,
                                                                    jacobi_sweeps,
                                                                    symmetric,
                                                                    energy_scaling,
                                                                    inverse_diagonal));
            // Fails on stagnation (max steps) and on divergence (residual 1e3 x the initial).
            dealii::SolverControl control(std::min(max_iterations, settings.max_iterations),
                                          settings.relative_tolerance * rhs_norm);
            control.set_failure_criterion(1e3);
            dealii::SolverFlexibleCG<dealii::Vector<double>> fcg(control);
            try
              {
                fcg.solve(*system.matrix, solution, *system.rhs, preconditioner);
                result.used_prediction = true; // here: the surrogate's corrections
              }
            catch (const dealii::SolverControl::NoConvergence &)
              {
                result.fallback_reason = "flexible CG with the surrogate stopped at relative residual " +
                                         std::to_string(control.last_value() / rhs_norm) + " after " +
                                         std::to_string(control.last_step()) +
                                         " iterations; the classical solve continued";
              }
            catch (const NonFiniteCorrection &error)
              {
                result.fallback_reason = std::string(error.what()) + "; the classical solve continued";
              }
            result.strategy_iterations = control.last_step();
          }
        // The true residual decides; CG with the problem's preconditioner continues from the
        // last iterate (zero if its residual exceeds ||b||) if it is not met (0 iterations
        // when flexible CG converged), with what is left of the iteration budget.
        if (!result.fallback_reason.empty() && !(system.relative_residual(solution) <= 1.))
          solution = 0;
        KrylovSettings rest = settings;
        rest.max_iterations -= std::min(rest.max_iterations, result.strategy_iterations);
        result.krylov = solve_cg(system, solution, rest);
        result.krylov.iterations += result.strategy_iterations;
        return result;
      }

    private:
      std::string  classical      = "amg";
      unsigned int jacobi_sweeps  = 2;
      bool         symmetric      = false;
      bool         energy_scaling = true;
      unsigned int max_iterations = 100;
    };
  } // namespace HybridStrategy
} // namespace mpno

MPNO_REGISTER_HYBRID_STRATEGY(mpno::HybridStrategy::NeuralPreconditioner,
                              "preconditioner",
                              "flexible CG (deal.II SolverFlexibleCG) preconditioned by the operator applied to the "
                              "residual, z = NO(r) (the surrogate must take the right-hand side as its last input "
                              "channel), followed by a classical part on r - A z (the problem's AMG, Jacobi sweeps, or "
                              "none); the true residual decides, and stagnation, divergence or a non-finite value "
                              "hands the solve to CG with the problem's preconditioner")
