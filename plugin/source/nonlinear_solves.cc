#include "nonlinear_solves.h"

#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/vector.h>

#include <mpno/plugin/parameters.h>

#include "solution_output.h"
#include "summary.h"

#include <mpno/surrogate/io_utils.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;

    void
    check_nonlinear_strategy(const std::string &strategy, const std::string &parameter_file)
    {
      if (strategy != "none" && strategy != "initial guess")
        throw UserError("in parameter file '" + parameter_file + "': entry 'Hybrid solver/Strategy' = '" + strategy +
                        "' does not apply to a nonlinear problem: use 'initial guess' (Newton from the "
                        "surrogate's prediction) or 'none'");
    }

    template <int dim>
    Problem::NonlinearSolveReport
    newton_from_classical_start(Problem::Interface<dim> &problem, dealii::Vector<double> &u)
    {
      Problem::NonlinearSolveReport start;
      try
        {
          start = problem.classical_start(u);
        }
      catch (const dealii::SolverControl::NoConvergence &error)
        {
          start.status = "classical start: its linear solve stopped at relative residual " +
                         format_number(error.last_residual, 3) + " after " + std::to_string(error.last_step) +
                         " iterations";
          start.final_relative_residual = std::nan("");
          return start;
        }
      Problem::NonlinearSolveReport newton = problem.solve_nonlinear(u);
      newton.linear_iterations += start.linear_iterations;
      newton.seconds += start.seconds;
      return newton;
    }

    template <int dim>
    void
    solve_nonlinear_instances(JobContext                           &job,
                              Problem::Interface<dim>              &problem,
                              HybridSolver<dim>                    &hybrid,
                              const HybridRunSettings              &run,
                              const std::string                    &inference_grid,
                              std::chrono::steady_clock::time_point start,
                              std::ostream                         &log)
    {
      check_nonlinear_strategy(hybrid.strategy_name(), job.parameter_file.string());
      const bool        with_surrogate = hybrid.uses_prediction();
      const std::size_t n_dofs         = problem.n_dofs();
      log << "mpno solve: problem '" << job.problem_name << "' (nonlinear, " << dim << "D, " << n_dofs << " DoFs), "
          << run.instances << " held-out instances, Newton from the classical start"
          << (with_surrogate ? " and from the surrogate's prediction (strategy 'initial guess')" : "") << std::endl;
      if (with_surrogate)
        log << "Surrogate: " << hybrid.surrogate_description() << ", inference on " << inference_grid << std::endl;

      HybridSummary h;
      h.strategy        = hybrid.strategy_name();
      h.iterations_unit = "Newton steps";
      h.n_dofs          = n_dofs;
      std::ostringstream csv;
      csv << "instance,seed,newton_steps_classical,newton_steps_surrogate,linear_iterations_classical,"
             "linear_iterations_surrogate,used_prediction,initial_relative_residual_surrogate,"
             "final_relative_residual_classical,final_relative_residual_surrogate,seconds_classical,"
             "inference_seconds,transfer_seconds,seconds_surrogate,surrogate_relative_error,fallback_reason\n"
          << std::setprecision(6);
      fs::create_directories(job.output_directory);
      Progress               progress("Newton solves", run.instances, log);
      dealii::Vector<double> reference(n_dofs), solution(n_dofs), prediction, error;
      std::vector<fs::path>  vtu_files;
      for (unsigned int i = 0; i < run.instances; ++i)
        {
          const std::uint64_t seed = run.seed + hybrid_seed_offset + i;
          problem.sample(seed);
          std::vector<const dealii::Function<dim> *> inputs;
          for (unsigned int c = 0; c < problem.input_names().size(); ++c)
            inputs.push_back(&problem.input_field(c));

          Problem::NonlinearSolveReport classical, surrogate;
          HybridSolveReport             inference;
          std::string                   fallback;
          const auto                    solve_from_prediction = [&]() {
            hybrid.predict(inputs, prediction, &inference);
            solution  = prediction;
            surrogate = problem.solve_nonlinear(solution);
            if (!surrogate.converged)
              {
                fallback = "Newton from the prediction: " + surrogate.status + " after " +
                           std::to_string(surrogate.steps) + " steps; restarted from the classical start";
                const Problem::NonlinearSolveReport again = newton_from_classical_start(problem, solution);
                surrogate.converged                       = again.converged;
                surrogate.status                          = again.status;
                surrogate.steps += again.steps;
                surrogate.linear_iterations += again.linear_iterations;
                surrogate.final_relative_residual = again.final_relative_residual;
                surrogate.seconds += again.seconds;
              }
          };
          // Alternate which solve runs first, so that neither always meets warm caches.
          if (with_surrogate && i % 2 == 1)
            solve_from_prediction();
          classical = newton_from_classical_start(problem, reference);
          if (with_surrogate && i % 2 == 0)
            solve_from_prediction();
          if (!classical.converged || (with_surrogate && !surrogate.converged))
            throw UserError(
              "in parameter file '" + job.parameter_file.string() + "': held-out instance " + std::to_string(i) +
              " (seed " + std::to_string(seed) +
              ") did not converge (see the problem's Newton entries in subsection Problem, e.g. its step limit): " +
              (classical.converged ? surrogate.status : classical.status) + ", relative residual " +
              format_number(classical.converged ? surrogate.final_relative_residual : classical.final_relative_residual,
                            3));

          double relative_error = std::nan("");
          h.iterations_zero_guess += classical.steps;
          h.seconds_zero_guess += classical.seconds;
          h.max_final_relative_residual = std::max(h.max_final_relative_residual, classical.final_relative_residual);
          if (with_surrogate)
            {
              h.iterations_surrogate += surrogate.steps;
              h.seconds_surrogate += surrogate.seconds + inference.inference_seconds + inference.transfer_seconds;
              h.inference_seconds += inference.inference_seconds;
              h.transfer_seconds += inference.transfer_seconds;
              h.max_final_relative_residual =
                std::max(h.max_final_relative_residual, surrogate.final_relative_residual);
              h.fallbacks += fallback.empty() ? 0 : 1;
              error = prediction;
              error -= reference;
              const double norm = problem.l2_norm(reference);
              relative_error    = norm > 0 ? problem.l2_norm(error) / norm : 0.;
              h.mean_surrogate_relative_error += relative_error / run.instances;
              h.max_surrogate_relative_error = std::max(h.max_surrogate_relative_error, relative_error);
            }
          csv << i << ',' << seed << ',' << classical.steps << ',' << surrogate.steps << ','
              << classical.linear_iterations << ',' << surrogate.linear_iterations << ','
              << (with_surrogate && fallback.empty() ? 1 : 0) << ',' << surrogate.initial_relative_residual << ','
              << classical.final_relative_residual << ',' << surrogate.final_relative_residual << ','
              << classical.seconds << ',' << inference.inference_seconds << ',' << inference.transfer_seconds << ','
              << surrogate.seconds + inference.inference_seconds + inference.transfer_seconds << ',' << relative_error
              << ',' << fallback << '\n';
          if (!fallback.empty())
            log << "Instance " << i << ": " << fallback << std::endl;
          if (i < run.vtu_instances)
            vtu_files.push_back(write_solution_vtu(problem, reference, prediction, job.output_directory, i));
          progress.advance("Newton steps " + std::to_string(classical.steps) + " from the classical start" +
                           (with_surrogate ?
                              ", " + std::to_string(surrogate.steps) + " from the prediction (its error " +
                                format_number(relative_error, 3) + ")" :
                              std::string()));
        }
      h.instances = run.instances;
      if (!with_surrogate)
        h.mean_surrogate_relative_error = h.max_surrogate_relative_error = std::nan("");
      h.mean_prediction_relative_residual = h.mean_smooth_error_residual = h.mean_rough_error_residual = std::nan("");
      io::write_file_atomically(job.output_directory / "hybrid.csv", csv.str());

      record_solve(job.output_directory,
                   h,
                   job.parameter_file,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

      log << std::setprecision(4) << "Newton solves (" << h.instances << " instances, " << n_dofs
          << " DoFs, to the problem's tolerance; assembly, AMG setups and GMRES included):\n"
          << "  classical start: " << h.iterations_zero_guess << " Newton steps, " << h.seconds_zero_guess << " s\n";
      if (with_surrogate)
        log << "  prediction:      " << h.iterations_surrogate << " Newton steps ("
            << format_number(double(h.iterations_surrogate) / std::max(1LL, h.iterations_zero_guess), 3) << "x), "
            << h.seconds_surrogate << " s ("
            << format_number(h.seconds_surrogate / std::max(1e-300, h.seconds_zero_guess), 3) << "x; inference "
            << h.inference_seconds << " s, transfer " << h.transfer_seconds << " s)\n"
            << "  surrogate error " << h.mean_surrogate_relative_error << " mean, " << h.max_surrogate_relative_error
            << " max (relative L2); " << h.fallbacks << " fallback(s)\n";
      log << "  max final relative Newton residual " << h.max_final_relative_residual << std::endl;
      if (!vtu_files.empty())
        log << "Wrote " << vtu_files.size() << " VTU file(s), e.g. '" << vtu_files.front().string() << "'" << std::endl;
    }

    template Problem::NonlinearSolveReport
    newton_from_classical_start<2>(Problem::Interface<2> &, dealii::Vector<double> &);
    template Problem::NonlinearSolveReport
    newton_from_classical_start<3>(Problem::Interface<3> &, dealii::Vector<double> &);
    template void
    solve_nonlinear_instances<2>(JobContext &,
                                 Problem::Interface<2> &,
                                 HybridSolver<2> &,
                                 const HybridRunSettings &,
                                 const std::string &,
                                 std::chrono::steady_clock::time_point,
                                 std::ostream &);
    template void
    solve_nonlinear_instances<3>(JobContext &,
                                 Problem::Interface<3> &,
                                 HybridSolver<3> &,
                                 const HybridRunSettings &,
                                 const std::string &,
                                 std::chrono::steady_clock::time_point,
                                 std::ostream &);
  } // namespace plugin
} // namespace mpno
