// `mpno solve FILE.prm`: held-out instances of the Problem solved from zero (the
// baseline) and by the hybrid solver with the trained surrogate; per-instance figures in
// hybrid.csv, totals in summary.json, fields in solution-NNN.vtu.
#include <deal.II/base/function.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/numerics/vector_tools.h>

#include <mpno/plugin/hybrid_solver.h>
#include <mpno/plugin/job_commands.h>
#include <mpno/plugin/parameters.h>

#include "job_common.h"
#include "job_parameters.h"
#include "nonlinear_solves.h"
#include "point_cloud_sampler.h"
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

    namespace
    {
      /** ||A v|| for the system's matrix. */
      double
      operator_norm_of(const LinearSystem &system, const dealii::Vector<double> &v)
      {
        dealii::Vector<double> av(v.size());
        system.matrix->vmult(av, v);
        return av.l2_norm();
      }

      /** ||v||_A for the system's matrix. */
      double
      energy_norm_of(const LinearSystem &system, const dealii::Vector<double> &v)
      {
        dealii::Vector<double> av(v.size());
        system.matrix->vmult(av, v);
        return std::sqrt(std::max(0., v * av));
      }

      /** The summary line on the raw predictions. */
      std::string
      prediction_line(const HybridSummary &h, const std::string &grid)
      {
        std::ostringstream out;
        out << std::setprecision(4) << "  surrogate error " << h.mean_surrogate_relative_error << " mean, "
            << h.max_surrogate_relative_error << " max (relative L2); its relative residual "
            << h.mean_prediction_relative_residual << " mean";
        // Point clouds: the prediction lies at the DoFs, no grid part to split off.
        if (!std::isnan(h.mean_smooth_error_residual))
          out << ", from the error the " << grid << " grid resolves " << h.mean_smooth_error_residual
              << ", from the rest " << h.mean_rough_error_residual;
        out << "\n";
        return out.str();
      }

      /** The checkpoint `mpno solve` uses: `Hybrid solver/Checkpoint`, else the top-level
       *  `Checkpoint`, else OUTPUT/checkpoint. */
      fs::path
      checkpoint_of(JobContext &job)
      {
        job.prm.enter_subsection("Hybrid solver");
        const std::string hybrid = job.prm.get("Checkpoint");
        job.prm.leave_subsection();
        if (!hybrid.empty())
          return resolve_path(hybrid, job.parameter_file);
        const std::string top = job.prm.get("Checkpoint");
        if (!top.empty())
          return resolve_path(top, job.parameter_file);
        return job.output_directory / "checkpoint";
      }

      template <int dim>
      void
      solve(JobContext &job, std::ostream &log)
      {
        const auto              start   = std::chrono::steady_clock::now();
        const HybridRunSettings run     = read_hybrid_run_settings(job.prm);
        auto                    problem = create_problem<dim>(job.prm, job.parameter_file);
        problem->setup();
        // A varying geometry (point clouds, GINO): the DoFs change per instance, the
        // inference grid is the latent grid, the prediction lies at the DoFs' points.
        const bool  varies = problem->geometry_varies();
        std::size_t n_dofs = varies ? 0 : problem->n_dofs();

        HybridSolver<dim>                       hybrid;
        std::string                             inference_grid;
        std::unique_ptr<PointCloudSampler<dim>> sampler;
        PointCloudDataSet                       layout;
        try
          {
            hybrid.parse_parameters(job.prm, job.parameter_file);
            hybrid.set_device(job.prm.get("Device"));
            if (varies)
              {
                if (hybrid.strategy_name() == "replace")
                  throw std::invalid_argument(
                    "strategy 'replace' certifies with a reference preconditioner and bound built once for a fixed "
                    "mesh (LinearSystem::reference_preconditioner); problem '" +
                    job.problem_name +
                    "' has a new mesh per instance and provides none: use 'initial guess' or "
                    "'none'");
                sampler = std::make_unique<PointCloudSampler<dim>>(*problem, hybrid.inference_grid_points());
                layout  = sampler->empty_set("solve");
                std::array<unsigned int, dim> shape;
                shape.fill(hybrid.inference_grid_points());
                inference_grid = "latent " + grid_shape_text(shape);
                hybrid.initialize_point_clouds(checkpoint_of(job));
              }
            else
              {
                std::shared_ptr<const FieldTransfer<dim>> transfer =
                  problem->make_field_transfer(hybrid.inference_grid_points());
                inference_grid = grid_shape_text(transfer->grid_shape());
                hybrid.initialize(transfer, checkpoint_of(job));
              }
          }
        catch (const std::exception &error)
          {
            throw UserError("in parameter file '" + job.parameter_file.string() +
                            "', subsection Hybrid solver (the surrogate from entry 'Hybrid solver/Checkpoint', else "
                            "'Checkpoint', else OUTPUT/checkpoint): " +
                            message_of(error));
          }
        if (problem->is_nonlinear())
          return solve_nonlinear_instances(job, *problem, hybrid, run, inference_grid, start, log);
        log << "mpno solve: problem '" << job.problem_name << "' (" << dim << "D, "
            << (varies ? std::string("a new mesh per instance") : std::to_string(n_dofs) + " DoFs") << "), "
            << run.instances << " held-out instances, strategy '" << hybrid.strategy_name() << "', tolerance "
            << hybrid.krylov_settings().relative_tolerance << std::endl;
        if (!hybrid.surrogate_description().empty())
          log << "Surrogate: " << hybrid.surrogate_description() << ", inference on " << inference_grid << std::endl;

        HybridSummary h;
        h.strategy                  = hybrid.strategy_name();
        double             dofs_sum = 0; // varying geometry: h.n_dofs is the mean
        std::ostringstream csv;
        csv << "instance,seed,iterations_zero_guess,iterations_surrogate,used_prediction,"
               "initial_relative_residual,final_relative_residual_zero_guess,final_relative_residual_surrogate,"
               "seconds_zero_guess,inference_seconds,transfer_seconds,solve_seconds,seconds_surrogate,"
               "surrogate_relative_error,prediction_relative_residual,smooth_error_residual,"
               "rough_error_residual,certified,error_bound,certified_energy_error,strategy_iterations\n"
            << std::setprecision(6);
        fs::create_directories(job.output_directory);
        Progress               progress("Hybrid solves", run.instances, log);
        dealii::Vector<double> reference, solution, error, smooth;
        std::vector<fs::path>  vtu_files;
        for (unsigned int i = 0; i < run.instances; ++i)
          {
            const std::uint64_t seed = run.seed + hybrid_seed_offset + i;
            problem->sample(seed);
            const auto assembly_start = std::chrono::steady_clock::now();
            problem->assemble();
            // The preconditioner is built here, not in whichever solve comes first.
            problem->linear_system().get_preconditioner();
            h.assembly_seconds +=
              std::chrono::duration<double>(std::chrono::steady_clock::now() - assembly_start).count();
            const LinearSystem system = problem->linear_system();
            if (varies)
              {
                n_dofs = problem->n_dofs();
                reference.reinit(n_dofs);
                solution.reinit(n_dofs);
              }
            dofs_sum += static_cast<double>(problem->n_dofs());

            std::vector<const dealii::Function<dim> *> inputs;
            for (unsigned int c = 0; c < problem->input_names().size(); ++c)
              inputs.push_back(&problem->input_field(c));

            // Alternate which solve runs first, so that neither always meets warm caches.
            HybridSolveReport baseline, report;
            try
              {
                if (i % 2 == 0)
                  baseline = hybrid.solve_classically(system, reference);
                if (varies)
                  {
                    // The point cloud's sampling (the input at the points, the signed
                    // distance on the latent grid) counts as transfer.
                    const auto             sampling_start = std::chrono::steady_clock::now();
                    const PointCloudSample cloud          = sampler->sample(nullptr, seed);
                    const double           sampling_seconds =
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - sampling_start).count();
                    report = hybrid.solve(system, layout, cloud, solution);
                    report.transfer_seconds += sampling_seconds;
                  }
                else
                  report = hybrid.solve(system, inputs, solution);
                if (i % 2 == 1)
                  baseline = hybrid.solve_classically(system, reference);
              }
            catch (const dealii::SolverControl::NoConvergence &error)
              {
                throw UserError("in parameter file '" + job.parameter_file.string() + "': held-out instance " +
                                std::to_string(i) + " (seed " + std::to_string(seed) + ") did not reach 'Hybrid " +
                                "solver/Relative tolerance' within 'Hybrid solver/Max iterations': relative residual " +
                                format_number(error.last_residual, 3) + " after " + std::to_string(error.last_step) +
                                " CG iterations");
              }
            const KrylovResult &k = report.result.krylov;
            h.iterations_zero_guess += baseline.result.krylov.iterations;
            h.iterations_surrogate += k.iterations;
            h.max_final_relative_residual = std::max({h.max_final_relative_residual,
                                                      baseline.result.krylov.final_relative_residual,
                                                      report.result.certified ? 0. : k.final_relative_residual});
            double certified_error        = std::nan("");
            if (report.result.certified)
              {
                error = solution;
                error -= reference;
                certified_error = energy_norm_of(system, error) / energy_norm_of(system, reference);
                ++h.certified;
                h.max_error_bound            = std::isnan(h.max_error_bound) ?
                                                 report.result.error_bound :
                                                 std::max(h.max_error_bound, report.result.error_bound);
                h.max_certified_energy_error = std::isnan(h.max_certified_energy_error) ?
                                                 certified_error :
                                                 std::max(h.max_certified_energy_error, certified_error);
              }
            h.seconds_zero_guess += baseline.total_seconds();
            h.seconds_surrogate += report.total_seconds();
            h.inference_seconds += report.inference_seconds;
            h.transfer_seconds += report.transfer_seconds;
            if (!report.result.fallback_reason.empty())
              ++h.fallbacks;

            // The raw prediction against the converged solution: its relative FE L2 error,
            // its relative residual, and the residuals, relative to ||b||, of the part of
            // its error the inference grid resolves (e_s, restricted to the grid and
            // interpolated back) and of the rest (e_r = e - e_s).
            double relative_error = std::nan(""), raw_residual = std::nan(""), smooth_residual = std::nan(""),
                   rough_residual                    = std::nan("");
            const dealii::Vector<double> &prediction = hybrid.last_prediction();
            if (prediction.size() == reference.size())
              {
                error = prediction;
                system.constraints->distribute(error);
                raw_residual = system.relative_residual(error);
                error -= reference;
                const double reference_norm = problem->l2_norm(reference);
                relative_error              = reference_norm > 0 ? problem->l2_norm(error) / reference_norm : 0.;
                // Point clouds: the prediction lies at the DoFs, no grid to split the error by.
                if (!varies)
                  {
                    hybrid.grid_projection(error, smooth);
                    const double rhs_norm = system.rhs->l2_norm();
                    smooth_residual       = rhs_norm > 0 ? operator_norm_of(system, smooth) / rhs_norm : 0.;
                    error -= smooth;
                    rough_residual = rhs_norm > 0 ? operator_norm_of(system, error) / rhs_norm : 0.;
                  }
                h.mean_surrogate_relative_error += relative_error / run.instances;
                h.max_surrogate_relative_error = std::max(h.max_surrogate_relative_error, relative_error);
                h.mean_prediction_relative_residual += raw_residual / run.instances;
                h.mean_smooth_error_residual += smooth_residual / run.instances;
                h.mean_rough_error_residual += rough_residual / run.instances;
              }
            csv << i << ',' << seed << ',' << baseline.result.krylov.iterations << ',' << k.iterations << ','
                << (report.result.used_prediction ? 1 : 0) << ',' << k.initial_relative_residual << ','
                << baseline.result.krylov.final_relative_residual << ',' << k.final_relative_residual << ','
                << baseline.total_seconds() << ',' << report.inference_seconds << ',' << report.transfer_seconds << ','
                << report.solve_seconds << ',' << report.total_seconds() << ',' << relative_error << ',' << raw_residual
                << ',' << smooth_residual << ',' << rough_residual << ',' << (report.result.certified ? 1 : 0) << ','
                << report.result.error_bound << ',' << certified_error << ',' << report.result.strategy_iterations
                << '\n';
            if (!report.result.fallback_reason.empty())
              log << "Instance " << i << ": prediction not used: " << report.result.fallback_reason << std::endl;
            if (i < run.vtu_instances)
              vtu_files.push_back(write_solution_vtu(*problem, reference, prediction, job.output_directory, i));
            progress.advance("iterations " + std::to_string(baseline.result.krylov.iterations) + " from zero, " +
                             std::to_string(k.iterations) + " with strategy '" + hybrid.strategy_name() + "'" +
                             (hybrid.uses_prediction() ?
                                ", the prediction's error " + format_number(relative_error, 3) :
                                std::string()));
          }
        h.instances = run.instances;
        h.n_dofs    = std::llround(dofs_sum / std::max(1u, run.instances));
        if (!hybrid.uses_prediction())
          h.mean_surrogate_relative_error = h.max_surrogate_relative_error = h.mean_prediction_relative_residual =
            h.mean_smooth_error_residual = h.mean_rough_error_residual = std::nan("");
        io::write_file_atomically(job.output_directory / "hybrid.csv", csv.str());

        record_solve(job.output_directory,
                     h,
                     job.parameter_file,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

        log << std::setprecision(4) << "Hybrid solves (" << h.instances << " instances, " << h.n_dofs
            << (varies ? " DoFs on average" : " DoFs") << ", to " << hybrid.krylov_settings().relative_tolerance
            << "):\n"
            << "  zero guess:     " << h.iterations_zero_guess << " CG iterations, " << h.seconds_zero_guess << " s\n"
            << "  " << std::left << std::setw(16) << (h.strategy + ":") << std::right << h.iterations_surrogate
            << " CG iterations, " << h.seconds_surrogate << " s (inference " << h.inference_seconds << " s, transfer "
            << h.transfer_seconds << " s)\n"
            << (hybrid.uses_prediction() ? prediction_line(h, inference_grid) : std::string())
            << (h.certified > 0 ? "  " + std::to_string(h.certified) + " answer(s) certified by an error bound (max " +
                                    format_number(h.max_error_bound, 3) + ", true relative energy-norm error max " +
                                    format_number(h.max_certified_energy_error, 3) + ")\n" :
                                  std::string())
            << "  max final relative residual " << h.max_final_relative_residual << " (the solves from zero"
            << (h.certified > 0 ? " and the answers not certified" : " and the strategy's") << ")"
            << "; " << h.fallbacks << " fallback(s); assembly + AMG setup " << h.assembly_seconds
            << " s (not counted above)" << std::endl;
        if (!vtu_files.empty())
          log << "Wrote " << vtu_files.size() << " VTU file(s), e.g. '" << vtu_files.front().string() << "'"
              << std::endl;
      }
    } // namespace

    void
    run_solve_command(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
    {
      JobContext job(parameter_file, output_override);
      if (job.dimension == 3)
        solve<3>(job, log);
      else
        solve<2>(job, log);
    }
  } // namespace plugin
} // namespace mpno
