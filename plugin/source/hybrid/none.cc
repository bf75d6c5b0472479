// Strategy `none`: the classical baseline, CG + the problem's preconditioner from zero.
#include <mpno/plugin/hybrid_strategy.h>

namespace mpno
{
  namespace HybridStrategy
  {
    class None : public Interface
    {
    public:
      static void
      declare_parameters(dealii::ParameterHandler &)
      {
      }

      bool
      uses_prediction() const override
      {
        return false;
      }

      Result
      solve(const LinearSystem &system,
            const dealii::Vector<double> *,
            dealii::Vector<double> &solution,
            const KrylovSettings   &settings) override
      {
        solution.reinit(system.rhs->size());
        return {solve_cg(system, solution, settings), false, ""};
      }
    };
  } // namespace HybridStrategy
} // namespace mpno

MPNO_REGISTER_HYBRID_STRATEGY(mpno::HybridStrategy::None,
                              "none",
                              "the classical solve alone, CG with the problem's preconditioner from the zero "
                              "vector (the baseline; the surrogate is not run)")
