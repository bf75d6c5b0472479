// `mpno run` (generate, train, solve) and `mpno validate`.
#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/hybrid_solver.h>
#include <mpno/plugin/job_commands.h>
#include <mpno/plugin/parameters.h>
#include <mpno/plugin/train_command.h>

#include "job_common.h"
#include "job_parameters.h"
#include "nonlinear_solves.h"
#include "summary.h"
#include "train_settings.h"

#include <chrono>
#include <iomanip>

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;

    void
    run_run_command(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
    {
      const auto start = std::chrono::steady_clock::now();
      const auto stage = [&](const char *name, void (*command)(const fs::path &, const std::string &, std::ostream &)) {
        log << "\n=== mpno " << name << " ===" << std::endl;
        command(parameter_file, output_override, log);
      };
      // Every entry checked before the first stage starts.
      run_validate_command(parameter_file, output_override, log);
      stage("generate", run_generate_command);
      stage("train", run_train_command);
      stage("solve", run_solve_command);
      // The summary holds every stage's figures; it was written last by solve.
      const JobContext job(parameter_file, output_override);
      if (auto summary = read_summary(job.output_directory / "summary.json", true))
        {
          summary->command = "run";
          summary->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          write_summary(*summary, job.output_directory / "summary.json");
        }
      log << "\nmpno run: done in " << std::setprecision(4)
          << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s" << std::endl;
    }

    namespace
    {
      /** Problem sphere's grid and an SFNO's quadrature must be the same grid (mpno train
       *  checks the data, this the entries before anything runs). */
      void
      check_sphere_grids(JobContext &job, const std::string &where)
      {
        if (job.problem_name != "sphere")
          return;
        job.prm.enter_subsection("Surrogate");
        const bool sfno = job.prm.get("Model") == "sfno";
        job.prm.enter_subsection("SFNO");
        const std::string model_grid = job.prm.get("grid");
        job.prm.leave_subsection();
        job.prm.leave_subsection();
        job.prm.enter_subsection("Problem");
        job.prm.enter_subsection("Sphere");
        const std::string problem_grid = job.prm.get("Grid");
        job.prm.leave_subsection();
        job.prm.leave_subsection();
        if (sfno && model_grid != problem_grid)
          throw UserError(where + "entry 'Surrogate/SFNO/grid' = " + model_grid +
                          " differs from 'Problem/Sphere/Grid' = " + problem_grid + ": set both to the same grid");
      }

      template <int dim>
      void
      validate(JobContext &job)
      {
        const std::string        where      = "in parameter file '" + job.parameter_file.string() + "': ";
        const GenerationSettings generation = read_generation_settings(job.prm, job.parameter_file);
        read_hybrid_run_settings(job.prm);
        const auto        problem = create_problem<dim>(job.prm, job.parameter_file);
        HybridSolver<dim> hybrid;
        try
          {
            hybrid.parse_parameters(job.prm, job.parameter_file);
          }
        catch (const std::exception &error)
          {
            throw UserError(where + message_of(error));
          }
        if (problem->is_nonlinear())
          check_nonlinear_strategy(hybrid.strategy_name(), job.parameter_file.string());
        if (problem->geometry_varies())
          {
            // A new mesh per instance: point clouds for the model, no fixed-mesh strategies.
            const std::string strategy = hybrid.strategy_name();
            if (strategy != "none" && strategy != "initial guess")
              throw UserError(where + "entry 'Hybrid solver/Strategy' = '" + strategy +
                              "' does not apply to problem '" + job.problem_name +
                              "', which has a new mesh per instance (replace and preconditioner need a fixed "
                              "mesh): use 'initial guess' or 'none'");
            job.prm.enter_subsection("Surrogate");
            const std::string model = job.prm.get("Model");
            job.prm.leave_subsection();
            if (model != "gino")
              throw UserError(where + "entry 'Surrogate/Model' = " + model + ": problem '" + job.problem_name +
                              "' has a new mesh per instance (its data are point clouds): use Model = gino");
            // A GINO runs on the latent grid of its training: the test sets of `mpno
            // generate` must have it (Trainer::train checks the data of any file).
            for (const unsigned int points : generation.test_points)
              if (points != generation.training_points)
                throw UserError(where + "entry 'Data generation/Test grid points' = " + std::to_string(points) +
                                " differs from 'Training grid points' = " + std::to_string(generation.training_points) +
                                ": problem '" + job.problem_name +
                                "' has point clouds, whose GINO runs on the latent grid of its training only; set "
                                "Test grid points = " +
                                std::to_string(generation.training_points));
          }
        const TrainSettings s = read_train_settings(job.prm, job.parameter_file, job.output_directory.string());
        // Point clouds have no H1 loss (Trainer::train refuses it, after data generation).
        if (problem->geometry_varies() && s.training.training_loss != "l2")
          throw UserError(where + "entry 'Training/Training loss' = " + s.training.training_loss + ": problem '" +
                          job.problem_name +
                          "' has point clouds, on which only the weighted relative L2 loss is defined: set "
                          "Training loss = l2");
        job.prm.enter_subsection("Hybrid solver");
        const std::string checkpoint = job.prm.get("Checkpoint");
        job.prm.leave_subsection();
        // The GINO this job trains on its own dataset.h5 (HybridSolver::initialize_point_clouds
        // checks any other checkpoint against the latent grid it records).
        const bool trains_its_own_checkpoint = checkpoint.empty() && job.prm.get("Checkpoint").empty() &&
                                               s.training_file == job.output_directory / "dataset.h5";
        if (problem->geometry_varies() && hybrid.strategy_name() == "initial guess" && trains_its_own_checkpoint &&
            hybrid.inference_grid_points() != generation.training_points)
          throw UserError(
            where + "entry 'Hybrid solver/Inference grid points' = " + std::to_string(hybrid.inference_grid_points()) +
            " differs from 'Data generation/Training grid points' = " + std::to_string(generation.training_points) +
            ", the latent grid the GINO is trained on: set both to the same");
        // Named inputs must exist; OUTPUT/dataset.h5 and checkpoints may come from `mpno run`.
        if (s.training_file != job.output_directory / "dataset.h5" && !fs::is_regular_file(s.training_file))
          throw UserError(where + "entry 'Data/Training file': '" + s.training_file.string() + "' does not exist");
        for (const auto &[name, path] : s.test_files)
          if (!fs::is_regular_file(path))
            throw UserError(where + "entry 'Data/Test files': '" + path.string() + "' (" + name + ") does not exist");
        if (!s.resume_from.empty() && !fs::is_directory(s.resume_from))
          throw UserError(where + "entry 'Training/Resume from': '" + s.resume_from.string() + "' does not exist");
        if (!checkpoint.empty() && !fs::is_directory(resolve_path(checkpoint, job.parameter_file)))
          throw UserError(where + "entry 'Hybrid solver/Checkpoint': '" +
                          resolve_path(checkpoint, job.parameter_file).string() + "' does not exist");
        check_sphere_grids(job, where);
      }
    } // namespace

    void
    run_validate_command(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
    {
      JobContext job(parameter_file, output_override);
      if (job.dimension == 3)
        validate<3>(job);
      else
        validate<2>(job);
      log << parameter_file.string() << ": valid (" << job.dimension << "D, problem '" << job.problem_name << "')"
          << std::endl;
    }
  } // namespace plugin
} // namespace mpno
