#pragma once

// Internal to libmpno_plugin: `mpno solve` for a nonlinear Problem (is_nonlinear()): Newton
// from the problem's classical start against Newton from the surrogate's prediction.
// No LibTorch header.

#include <mpno/plugin/hybrid_solver.h>
#include <mpno/plugin/problem.h>

#include "job_common.h"
#include "job_parameters.h"

#include <chrono>
#include <ostream>
#include <string>

namespace mpno
{
  namespace plugin
  {
    /**
     * Solve run.instances held-out instances of the nonlinear @p problem (set up) by
     * Newton from its classical_start() and, with strategy `initial guess`, from
     * @p hybrid's prediction (a start that does not converge falls back to the classical
     * start, all of it counted, and is reported); write hybrid.csv, summary.json (hybrid
     * block, iterations_unit "Newton steps") and the first VTU files; log a summary.
     * @throws UserError for a strategy other than `none` and `initial guess`, or a
     *   classical Newton solve that does not converge.
     */
    template <int dim>
    void
    solve_nonlinear_instances(JobContext                           &job,
                              Problem::Interface<dim>              &problem,
                              HybridSolver<dim>                    &hybrid,
                              const HybridRunSettings              &run,
                              const std::string                    &inference_grid,
                              std::chrono::steady_clock::time_point start,
                              std::ostream                         &log);

    /**
     * Newton for @p problem's current instance from its classical_start() into @p u: the
     * two reports merged (steps, iterations, seconds). A linear solve of the start that
     * does not converge becomes a non-converged report with status "classical start: ...".
     */
    template <int dim>
    Problem::NonlinearSolveReport
    newton_from_classical_start(Problem::Interface<dim> &problem, dealii::Vector<double> &u);

    /** @throws UserError (naming 'Hybrid solver/Strategy' and @p parameter_file) unless
     *  @p strategy is one a nonlinear problem can use: `none` or `initial guess`. */
    void
    check_nonlinear_strategy(const std::string &strategy, const std::string &parameter_file);
  } // namespace plugin
} // namespace mpno
