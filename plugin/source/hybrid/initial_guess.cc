// Strategy `initial guess`: the surrogate's prediction starts CG; the true residual
// decides convergence, so a bad prediction costs iterations, never accuracy.
#include <mpno/plugin/hybrid_strategy.h>

#include <cmath>

namespace mpno
{
  namespace HybridStrategy
  {
    class InitialGuess : public Interface
    {
    public:
      static void
      declare_parameters(dealii::ParameterHandler &)
      {
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
        if (prediction == nullptr || prediction->size() != solution.size())
          result.fallback_reason = "no prediction of the right size";
        else
          {
            bool finite = true;
            for (const double v : *prediction)
              finite = finite && std::isfinite(v);
            if (!finite)
              result.fallback_reason = "the prediction has non-finite values";
            else
              {
                solution = *prediction;
                system.constraints->distribute(solution);
                // The zero vector has relative residual 1: start from whichever is closer.
                const double residual = system.relative_residual(solution);
                if (!(residual < 1.))
                  {
                    result.fallback_reason =
                      "the prediction's relative residual " + std::to_string(residual) + " is not below 1";
                    solution = 0;
                  }
                else
                  result.used_prediction = true;
              }
          }
        result.krylov = solve_cg(system, solution, settings);
        return result;
      }
    };
  } // namespace HybridStrategy
} // namespace mpno

MPNO_REGISTER_HYBRID_STRATEGY(mpno::HybridStrategy::InitialGuess,
                              "initial guess",
                              "the surrogate's prediction, mapped into the FE space, starts CG with the problem's "
                              "preconditioner; the true residual decides convergence. A prediction that is not "
                              "finite or has a larger residual than the zero vector is replaced by zero")
