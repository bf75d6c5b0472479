// Strategy `initial guess`: the surrogate's prediction starts CG; the true residual
// decides convergence, so a bad prediction costs iterations, never accuracy.
#include <mpno/plugin/hybrid_strategy.h>

#include "common.h"

#include <algorithm>
#include <cmath>

namespace mpno
{
  namespace HybridStrategy
  {
    class InitialGuess : public Interface
    {
    public:
      static void
      declare_parameters(dealii::ParameterHandler &prm)
      {
        prm.enter_subsection("Initial guess");
        prm.declare_entry("Smoothing steps",
                          "0",
                          dealii::Patterns::Integer(0, 1000),
                          "Damped Jacobi sweeps (omega = 2/3, one matrix-vector product each, "
                          "included in the solve time) applied to the prediction before CG: they "
                          "remove the rough part of its error (from the grid's resolution and the "
                          "interpolation onto the mesh), which costs CG iterations under the "
                          "residual criterion while the smooth part is what the surrogate gets "
                          "right.");
        prm.leave_subsection();
      }

      void
      parse_parameters(dealii::ParameterHandler &prm) override
      {
        prm.enter_subsection("Initial guess");
        smoothing_steps = prm.get_integer("Smoothing steps");
        prm.leave_subsection();
      }

      bool
      uses_prediction() const override
      {
        return true;
      }

      Result
      solve(const LinearSystem           &system,
            const dealii::Vector<double> *prediction,
            dealii::Vector<double>       &solution,
            const KrylovSettings         &settings) override
      {
        Result result;
        solution.reinit(system.rhs->size());
        result.fallback_reason = prediction_problem(system, prediction);
        if (result.fallback_reason.empty())
          {
            solution = *prediction;
            system.constraints->distribute(solution);
            smooth(system, solution);
            // Start from whichever of the prediction and zero has the smaller error
            // in the energy norm CG minimises, estimated by sqrt(r^T B r) with B the
            // preconditioner (one application each): the plain residual norm would
            // overweight the rough part of the error, which the preconditioner's
            // smoother removes cheaply.
            const auto            &B = system.get_preconditioner();
            dealii::Vector<double> r;
            residual(system, solution, r);
            const double predicted = preconditioned_norm(system, B, r);
            const double zero      = preconditioned_norm(system, B, *system.rhs); // r = b
            if (!(predicted < zero))
              {
                result.fallback_reason = "the prediction's preconditioned residual norm " + std::to_string(predicted) +
                                         " is not below the zero vector's " + std::to_string(zero);
                solution = 0;
              }
            else
              result.used_prediction = true;
          }
        result.krylov = solve_cg(system, solution, settings);
        return result;
      }

    private:
      unsigned int smoothing_steps = 0;

      /** smoothing_steps damped Jacobi sweeps u += 2/3 D^{-1} (b - A u). */
      void
      smooth(const LinearSystem &system, dealii::Vector<double> &u) const
      {
        if (smoothing_steps == 0)
          return;
        dealii::Vector<double> r(u.size()), inverse_diagonal(u.size());
        for (unsigned int i = 0; i < u.size(); ++i)
          {
            const double d = system.matrix->diag_element(i);
            // A zero diagonal (no SPD matrix) leaves that entry unsmoothed.
            inverse_diagonal[i] = d != 0. ? 1. / d : 0.;
          }
        for (unsigned int k = 0; k < smoothing_steps; ++k)
          {
            system.matrix->vmult(r, u);
            r.sadd(-1., 1., *system.rhs);
            r.scale(inverse_diagonal);
            u.add(2. / 3., r);
            system.constraints->distribute(u);
          }
      }
    };
  } // namespace HybridStrategy
} // namespace mpno

MPNO_REGISTER_HYBRID_STRATEGY(mpno::HybridStrategy::InitialGuess,
                              "initial guess",
                              "the surrogate's prediction, mapped into the FE space, starts CG with the problem's "
                              "preconditioner (optionally after damped Jacobi sweeps); the true residual decides "
                              "convergence. A prediction that is not "
                              "finite, or whose preconditioned residual norm sqrt(r^T B r) (the energy norm of "
                              "its error, estimated) is not below the zero vector's, is replaced by zero")
