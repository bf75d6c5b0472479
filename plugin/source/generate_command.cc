// `mpno generate FILE.prm`: solve instances of the Problem classically and write their
// input fields and solutions, sampled on uniform grids, to OUTPUT/dataset.h5.
#include <deal.II/base/parameter_handler.h>
#include <deal.II/lac/solver_control.h>

#include <mpno/coupling/dataset_export.h>
#include <mpno/coupling/dataset_file.h>
#include <mpno/coupling/field_transfer.h>
#include <mpno/plugin/job_commands.h>
#include <mpno/plugin/parameters.h>

#include "job_common.h"
#include "job_parameters.h"
#include "nonlinear_solves.h"
#include "point_cloud_sampler.h"
#include "summary.h"

#include <chrono>
#include <cmath>
#include <iomanip>

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;

    namespace
    {
      /** One set being filled: its grid, its transfer from the FE space, its arrays; or,
       *  for a problem whose geometry varies, its point clouds on a latent grid. */
      template <int dim>
      struct SetUnderConstruction
      {
        GridDataSet                             set;
        std::unique_ptr<FieldTransfer<dim>>     transfer;
        std::unique_ptr<PointCloudSampler<dim>> sampler;
        PointCloudDataSet                       cloud;

        /** E.g. "32^2" (the grid, or the latent grid of point clouds). */
        std::string
        grid_text(const unsigned int points) const
        {
          std::array<unsigned int, dim> shape;
          shape.fill(points);
          return transfer ? grid_shape_text(transfer->grid_shape()) : "latent " + grid_shape_text(shape);
        }
      };

      template <int dim>
      SetUnderConstruction<dim>
      make_set(const std::string             &name,
               const unsigned int             points,
               const std::size_t              instances,
               const Problem::Interface<dim> &problem)
      {
        if (problem.geometry_varies())
          {
            SetUnderConstruction<dim> s;
            s.sampler = std::make_unique<PointCloudSampler<dim>>(problem, points);
            s.cloud   = s.sampler->empty_set(name);
            s.cloud.samples.reserve(instances);
            return s;
          }
        SetUnderConstruction<dim> s{GridDataSet(), problem.make_field_transfer(points), nullptr, {}};
        s.set.name = name;
        s.set.grid_shape.assign(s.transfer->grid_shape().begin(), s.transfer->grid_shape().end());
        s.set.in_channels      = problem.input_names().size();
        s.set.out_channels     = 1;
        const std::size_t size = s.transfer->n_grid_points();
        s.set.x.reserve(instances * s.set.in_channels * size);
        s.set.y.reserve(instances * size);
        return s;
      }

      /** Append the current instance (inputs and @p solution) to @p s. */
      template <int dim>
      void
      append(SetUnderConstruction<dim>     &s,
             const Problem::Interface<dim> &problem,
             const dealii::Vector<double>  &solution,
             const std::uint64_t            seed)
      {
        if (s.sampler)
          {
            s.cloud.samples.push_back(s.sampler->sample(&solution, seed));
            return;
          }
        const std::size_t size = s.transfer->n_grid_points();
        for (unsigned int c = 0; c < s.set.in_channels; ++c)
          {
            s.set.x.resize(s.set.x.size() + size);
            s.transfer->function_to_grid(problem.input_field(c),
                                         dealii::ArrayView<float>(s.set.x.data() + s.set.x.size() - size, size));
          }
        s.set.y.resize(s.set.y.size() + size);
        s.transfer->fe_to_grid(solution, dealii::ArrayView<float>(s.set.y.data() + s.set.y.size() - size, size));
        s.set.seeds.push_back(seed);
      }

      template <int dim>
      void
      generate(JobContext &job, std::ostream &log)
      {
        const auto               start   = std::chrono::steady_clock::now();
        const GenerationSettings g       = read_generation_settings(job.prm, job.parameter_file);
        auto                     problem = create_problem<dim>(job.prm, job.parameter_file);
        problem->setup();
        // A varying geometry has no DoFs before the first instance: its count is a mean.
        const bool                             varies = problem->geometry_varies();
        double                                 n_dofs = varies ? 0. : static_cast<double>(problem->n_dofs());
        std::vector<SetUnderConstruction<dim>> train;
        train.push_back(make_set<dim>("train", g.training_points, g.training_instances, *problem));
        std::vector<SetUnderConstruction<dim>> test;
        if (g.test_instances > 0)
          for (const unsigned int n : g.test_points)
            test.push_back(make_set<dim>("test_" + std::to_string(n), n, g.test_instances, *problem));
        log << "mpno generate: problem '" << job.problem_name << "' (" << dim << "D, "
            << (varies ? std::string("a new mesh per instance: point clouds") :
                         std::to_string(problem->n_dofs()) + " DoFs")
            << "), " << g.training_instances << " training instances at " << train[0].grid_text(g.training_points)
            << ", " << g.test_instances << " test instances at";
        for (std::size_t k = 0; k < test.size(); ++k)
          log << ' ' << test[k].grid_text(g.test_points[k]);
        log << std::endl;

        Progress               progress("Generating", g.training_instances + g.test_instances, log);
        dealii::Vector<double> solution;
        double                 iterations = 0, dofs_sum = 0;
        const auto solve_instance = [&](const std::uint64_t seed, std::vector<SetUnderConstruction<dim>> &sets) {
          problem->sample(seed);
          if (problem->is_nonlinear())
            {
              const Problem::NonlinearSolveReport r = newton_from_classical_start(*problem, solution);
              if (!r.converged)
                throw UserError("in parameter file '" + job.parameter_file.string() + "': the instance with seed " +
                                std::to_string(seed) + " of problem '" + job.problem_name +
                                "' did not converge: " + r.status + " after " + std::to_string(r.steps) +
                                " steps, relative residual " + format_number(r.final_relative_residual, 3) +
                                " (see the problem's Newton entries in subsection Problem, e.g. its step limit)");
              iterations += r.steps;
              for (auto &s : sets)
                append(s, *problem, solution, seed);
              progress.advance("mean " + format_number(iterations / progress.done_plus_one(), 3) + " Newton steps");
              return;
            }
          problem->assemble();
          solution.reinit(problem->n_dofs());
          dofs_sum += solution.size();
          KrylovResult r;
          try
            {
              r = solve_cg(problem->linear_system(), solution, g.krylov);
            }
          catch (const dealii::SolverControl::NoConvergence &error)
            {
              throw UserError("in parameter file '" + job.parameter_file.string() + "': the instance with seed " +
                              std::to_string(seed) + " did not reach 'Data generation/Relative tolerance' within " +
                              "'Data generation/Max iterations': relative residual " +
                              format_number(error.last_residual, 3) + " after " + std::to_string(error.last_step) +
                              " CG iterations");
            }
          iterations += r.iterations;
          for (auto &s : sets)
            append(s, *problem, solution, seed);
          progress.advance("mean " + format_number(iterations / progress.done_plus_one(), 3) + " CG iterations");
        };
        for (unsigned int i = 0; i < g.training_instances; ++i)
          solve_instance(g.seed + i, train);
        for (unsigned int i = 0; i < g.test_instances; ++i)
          solve_instance(g.seed + test_seed_offset + i, test);
        if (varies)
          n_dofs = dofs_sum / std::max(1u, g.training_instances + g.test_instances);

        fs::create_directories(job.output_directory);
        const fs::path    file = job.output_directory / "dataset.h5";
        DatasetFileWriter writer(file);
        writer.set_attribute("problem", job.problem_name);
        writer.set_attribute("dimension", std::to_string(dim));
        writer.set_attribute("input channels", join(problem->input_names()));
        writer.set_attribute("output channels", problem->output_name());
        writer.set_attribute("seeds",
                             "training i: Seed + i; test i: Seed + " + std::to_string(test_seed_offset) +
                               " + i; Seed = " + std::to_string(g.seed));
        writer.set_attribute("grid",
                             varies ? "point clouds (the DoFs' support points) with a uniform latent grid on the "
                                      "bounding box, points i / (n - 1); latent features: signed distance, "
                                      "coordinates" :
                                      train[0].transfer->grid_description());
        for (const auto &[key, value] : problem->attributes())
          writer.set_attribute("problem " + key, value);
        for (auto *sets : {&train, &test})
          for (auto &s : *sets)
            if (varies)
              writer.add_point_cloud_set(s.cloud);
            else
              writer.add_set(s.set);
        writer.close();
        log << "Wrote '" << file.string() << "': train " << g.training_instances << " x "
            << train[0].grid_text(g.training_points);
        for (const auto &s : test)
          log << ", " << (varies ? s.cloud.name : s.set.name) << " "
              << (varies ? s.cloud.samples.size() : s.set.n_samples());
        log << std::endl;
        if (g.export_pt && varies)
          log << "Export pt: skipped, point-cloud sets have no .pt form here (dataset.h5 holds them)" << std::endl;
        else if (g.export_pt)
          for (auto *sets : {&train, &test})
            for (auto &s : *sets)
              {
                export_pt(s.set, job.output_directory / (s.set.name + ".pt"));
                log << "Exported '" << (job.output_directory / (s.set.name + ".pt")).string() << "'" << std::endl;
              }

        RunSummary summary;
        summary.command        = "generate";
        summary.parameter_file = fs::absolute(job.parameter_file).lexically_normal().string();
        summary.threads        = job.threads;
        const double seconds   = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        summary.generation     = GenerationSummary{job.problem_name,
                                               static_cast<long long>(std::llround(n_dofs)),
                                               g.training_instances,
                                               g.test_instances,
                                               iterations / std::max(1u, g.training_instances + g.test_instances),
                                               seconds};
        summary.seconds        = seconds;
        summary.peak_rss_mb    = peak_rss_mb();
        write_summary(summary, job.output_directory / "summary.json");
        log << "Data generation: " << std::setprecision(4) << seconds << " s" << std::endl;
      }
    } // namespace

    void
    run_generate_command(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
    {
      JobContext job(parameter_file, output_override);
      if (job.dimension == 3)
        generate<3>(job, log);
      else
        generate<2>(job, log);
    }
  } // namespace plugin
} // namespace mpno
