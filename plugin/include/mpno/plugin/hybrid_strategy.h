#pragma once

// The `HybridStrategy` plugin system: how a surrogate's prediction enters the classical
// solve (design.md "Plugin systems"), selected with `set Strategy = NAME` in
// `subsection Hybrid solver`. deal.II only: no LibTorch header here.

#include <deal.II/base/parameter_handler.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/linear_solve.h>
#include <mpno/plugin/registry.h>

#include <functional>
#include <limits>
#include <string>

namespace mpno
{
  namespace HybridStrategy
  {
    /** What a strategy did for one system. */
    struct Result
    {
      /** The Krylov solve (iterations, initial and final true relative residuals). */
      KrylovResult krylov;
      /** False when the prediction was not used: the strategy does not use it, or it was
       *  rejected (non-finite, or a larger residual than the zero vector's). Strategy
       *  `preconditioner`: true when flexible CG with the surrogate's corrections converged. */
      bool used_prediction = false;
      /** Why the prediction was rejected or the strategy fell back to the classical
       *  solve; empty when used or not wanted. */
      std::string fallback_reason;
      /** True when the answer was accepted by an error bound instead of the residual
       *  tolerance (strategy `replace`): its residual may then exceed the tolerance. */
      bool certified = false;
      /** The bound of the returned answer's relative energy-norm error ||u - u_h||_A /
       *  ||u_h||_A (u_h the discrete solution) that certified it; for an answer not
       *  certified, the bound of the last certificate iterate before the classical solve
       *  took over; NaN when not computed. */
      double error_bound = std::numeric_limits<double>::quiet_NaN();
      /** Iterations of the strategy's own method before the answer was certified or the
       *  classical solve took over (`replace`: CG steps with the reference
       *  preconditioner; `preconditioner`: flexible CG steps); krylov.iterations includes
       *  them. */
      unsigned int strategy_iterations = 0;
    };

    /**
     * A way to solve a linear system with the help of a prediction of its solution. Every
     * strategy must return a solution whose true relative residual meets the tolerance
     * of the KrylovSettings, or one whose relative energy-norm error a computed bound
     * certifies below the strategy's own error tolerance (Result::certified,
     * Result::error_bound), or throw (dealii::SolverControl::NoConvergence): a useless
     * or harmful prediction may cost iterations, never accuracy. Registered with
     * MPNO_REGISTER_HYBRID_STRATEGY; its static declare_parameters(prm) is called inside
     * `subsection Hybrid solver`.
     */
    class Interface
    {
    public:
      virtual ~Interface() = default;

      /** Read the strategy's own entries; @p prm is inside `subsection Hybrid solver`. */
      virtual void
      parse_parameters(dealii::ParameterHandler &)
      {
      }

      /** Whether solve() reads the prediction (false: the caller need not run the
       *  surrogate). */
      virtual bool
      uses_prediction() const = 0;

      /**
       * The surrogate as an approximate inverse of A: correction = NO(residual), the
       * operator's solution for the right-hand side whose residual vector (one integral
       * against each basis function, constrained entries zero) is given, in the FE space.
       * Set by HybridSolver before solve() when uses_surrogate_action() is true.
       */
      using SurrogateAction =
        std::function<void(const dealii::Vector<double> &residual, dealii::Vector<double> &correction)>;

      /** Whether solve() applies the surrogate to residuals (surrogate_action). */
      virtual bool
      uses_surrogate_action() const
      {
        return false;
      }

      void
      set_surrogate_action(SurrogateAction action)
      {
        surrogate_action = std::move(action);
      }

      /**
       * Solve @p system into @p solution (size of b; its input value is ignored).
       * @p prediction is the surrogate's solution mapped into the FE space (size of b),
       * or nullptr when uses_prediction() is false.
       */
      virtual Result
      solve(const LinearSystem           &system,
            const dealii::Vector<double> *prediction,
            dealii::Vector<double>       &solution,
            const KrylovSettings         &settings) = 0;

    protected:
      SurrogateAction surrogate_action;
    };

    /** The registry of strategies (one per process, in libmpno_plugin). */
    plugin::Registry<Interface> &
    registry();
  } // namespace HybridStrategy
} // namespace mpno

/**
 * Register the strategy @p classname (derived from mpno::HybridStrategy::Interface,
 * default constructible, with a static declare_parameters(ParameterHandler &)) as
 * @p name with the documentation @p doc.
 */
#define MPNO_REGISTER_HYBRID_STRATEGY(classname, name, doc)                                                       \
  namespace                                                                                                       \
  {                                                                                                               \
    const auto MPNO_PLUGIN_CONCAT(mpno_hybrid_strategy_registration_, __LINE__) = ::mpno::plugin::RegisterPlugin< \
      ::mpno::HybridStrategy::Interface>::make<classname>(::mpno::HybridStrategy::registry(), name, doc);         \
  }
