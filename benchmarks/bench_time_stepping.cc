// bench_time_stepping: implicit Euler trajectories of the heat equation (Problem heat)
// with CG + AMG started from the previous step, from the linear extrapolation
// 2 u^n - u^{n-1}, and from the trained surrogate's prediction of u^{n+1} from (a, u^n),
// and with strategy replace (the prediction accepted when its energy-norm error bound is
// below `Hybrid solver/Replace/Error tolerance`), per mesh size (issue 5, time stepping).
// Not a test: it prints a table.
//
//   bench_time_stepping FILE.prm [--cells 64,128,256] [--trajectories 5] [--steps 10]
//                       [--checkpoint DIR]
//
// FILE.prm is an mpno job file with Problem heat (`mpno run FILE.prm` trains its
// surrogate; --checkpoint defaults to OUTPUT/checkpoint). Trajectory t starts at the
// held-out seed s_t, the t-th multiple of K = `Steps per trajectory` from Seed + 2e9 on
// (step 0 of a trajectory), and step k is the instance s_t + k, whose state the problem
// reaches by k classical steps. Per step the
// system is assembled and its AMG built (the same for every start; reported apart), then
// solved to `Hybrid solver/Relative tolerance` from each start. Times per step: CG, and
// for the surrogate inference and field transfer too.
#include <deal.II/base/mpi.h>
#include <deal.II/lac/vector.h>
#include <deal.II/numerics/vector_tools_interpolate.h>

#include <mpno/coupling/linear_solve.h>
#include <mpno/coupling/surrogate_model.h>
#include <mpno/plugin/hybrid_solver.h>
#include <mpno/plugin/parameters.h>

#include <torch/torch.h>

#include "../plugin/source/job_common.h"
#include "../plugin/source/job_parameters.h"
#include "bench_options.h"

#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

namespace
{
  using namespace mpno;
  using Clock = std::chrono::steady_clock;

  double
  seconds_since(const Clock::time_point start)
  {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  struct Options
  {
    std::filesystem::path     parameter_file, checkpoint;
    std::vector<unsigned int> cells{64, 128, 256};
    unsigned int              trajectories = 5, steps = 10;
  };

  Options
  parse_options(int argc, char **argv)
  {
    Options options;
    for (int i = 1; i < argc; ++i)
      {
        const std::string arg   = argv[i];
        const auto        value = [&]() -> std::string {
          if (i + 1 >= argc)
            throw std::invalid_argument("option " + arg + " needs a value");
          return argv[++i];
        };
        if (arg == "--cells")
          options.cells = bench::parse_integer_list(arg, value(), 2);
        else if (arg == "--trajectories")
          options.trajectories = static_cast<unsigned int>(bench::parse_integer(arg, value(), 1));
        else if (arg == "--steps")
          options.steps = static_cast<unsigned int>(bench::parse_integer(arg, value(), 1));
        else if (arg == "--checkpoint")
          options.checkpoint = value();
        else if (!arg.empty() && arg[0] != '-' && options.parameter_file.empty())
          options.parameter_file = arg;
        else
          throw std::invalid_argument("unknown option '" + arg + "' (see the head of bench_time_stepping.cc)");
      }
    if (options.parameter_file.empty())
      throw std::invalid_argument("usage: bench_time_stepping FILE.prm [--cells LIST] [--trajectories N] "
                                  "[--steps K] [--checkpoint DIR]");
    return options;
  }

  /** Sums over the steps of one (mesh, start). */
  struct Totals
  {
    unsigned int steps = 0, iterations = 0, certified = 0;
    double       cg = 0, surrogate = 0, initial_error = 0, max_certified_error = 0;
  };

  /** ||v||_A. */
  double
  energy_norm(const LinearSystem &system, const dealii::Vector<double> &v)
  {
    dealii::Vector<double> av(v.size());
    system.matrix->vmult(av, v);
    return std::sqrt(std::max(0., v * av));
  }

  void
  run(const Options &options, std::ostream &log)
  {
    plugin::JobContext job(options.parameter_file, "");
    if (job.dimension != 2 || job.problem_name != "heat")
      throw std::invalid_argument("expected a 2D job with Problem/Name = heat in '" + options.parameter_file.string() +
                                  "'");
    job.prm.enter_subsection("Problem");
    job.prm.enter_subsection("Heat");
    const unsigned int per_trajectory = job.prm.get_integer("Steps per trajectory");
    job.prm.leave_subsection();
    job.prm.leave_subsection();
    if (options.steps > per_trajectory)
      throw std::invalid_argument("--steps " + std::to_string(options.steps) +
                                  " exceeds 'Problem/Heat/Steps per trajectory' = " + std::to_string(per_trajectory) +
                                  " (raise that entry, and regenerate the data, for longer trajectories)");
    const plugin::HybridRunSettings run_settings = plugin::read_hybrid_run_settings(job.prm);
    const std::uint64_t             first_trajectory =
      (run_settings.seed + plugin::hybrid_seed_offset + per_trajectory - 1) / per_trajectory;
    const std::filesystem::path checkpoint =
      options.checkpoint.empty() ? job.output_directory / "checkpoint" : options.checkpoint;
    auto model = std::make_shared<const SurrogateModel>(checkpoint, job.prm.get("Device"));
    job.prm.enter_subsection("Hybrid solver");
    job.prm.set("Strategy", "replace");
    job.prm.leave_subsection();
    const auto make_hybrid = [&]() {
      HybridSolver<2> hybrid;
      hybrid.parse_parameters(job.prm, job.parameter_file);
      hybrid.set_device(job.prm.get("Device"));
      hybrid.set_surrogate(model);
      return hybrid;
    };
    const KrylovSettings settings = make_hybrid().krylov_settings();
    log << "bench_time_stepping: " << options.parameter_file.string() << ", surrogate " << model->description() << ", "
        << options.trajectories << " trajectories of " << options.steps << " steps per mesh, tolerance "
        << settings.relative_tolerance << ", " << torch::get_num_threads() << " LibTorch thread(s)" << std::endl;

    const std::vector<std::string> starts{"previous step", "extrapolation", "surrogate", "replace"};
    for (const unsigned int cells : options.cells)
      {
        job.prm.enter_subsection("Problem");
        job.prm.enter_subsection("Heat");
        job.prm.set("Cells per side", std::to_string(cells));
        job.prm.leave_subsection();
        job.prm.leave_subsection();
        auto problem = plugin::create_problem<2>(job.prm, job.parameter_file);
        problem->setup();
        HybridSolver<2> hybrid = make_hybrid(); // after the problem: its transfer points into it
        hybrid.initialize(problem->make_field_transfer(hybrid.inference_grid_points()));
        const auto                    n_dofs = problem->n_dofs();
        std::map<std::string, Totals> totals;
        double                        assembly = 0;
        for (unsigned int t = 0; t < options.trajectories; ++t)
          {
            const std::uint64_t    first = (first_trajectory + t) * per_trajectory;
            dealii::Vector<double> older(n_dofs), previous(n_dofs), x(n_dofs), reference(n_dofs);
            for (unsigned int k = 0; k < options.steps; ++k)
              {
                problem->sample(first + k);
                older = previous;
                dealii::VectorTools::interpolate(problem->get_dof_handler(), problem->input_field(1), previous);
                auto start = Clock::now();
                problem->assemble();
                const LinearSystem system = problem->linear_system();
                system.get_preconditioner();
                assembly += seconds_since(start);
                reference = previous;
                solve_cg(system, reference, {1e-12, 1000, 3});
                const double reference_norm = energy_norm(system, reference);
                const auto   error_of       = [&](const dealii::Vector<double> &u) {
                  dealii::Vector<double> e = u;
                  e -= reference;
                  return energy_norm(system, e) / reference_norm;
                };
                const std::vector<const dealii::Function<2> *> inputs{&problem->input_field(0),
                                                                      &problem->input_field(1)};
                for (const std::string &name : starts)
                  {
                    Totals &s = totals[name];
                    ++s.steps;
                    if (name == "replace")
                      {
                        const HybridSolveReport r = hybrid.solve(system, inputs, x);
                        s.iterations += r.result.krylov.iterations;
                        s.cg += r.solve_seconds;
                        s.surrogate += r.inference_seconds + r.transfer_seconds;
                        if (r.result.certified)
                          {
                            ++s.certified;
                            s.max_certified_error = std::max(s.max_certified_error, error_of(x));
                          }
                        continue;
                      }
                    start = Clock::now();
                    if (name == "previous step" || (name == "extrapolation" && k == 0))
                      x = previous;
                    else if (name == "extrapolation")
                      {
                        x = previous;
                        x.sadd(2., -1., older);
                      }
                    else
                      hybrid.predict(inputs, x);
                    s.surrogate += name == "surrogate" ? seconds_since(start) : 0.;
                    s.initial_error += error_of(x);
                    start                = Clock::now();
                    const KrylovResult r = solve_cg(system, x, settings);
                    s.cg += seconds_since(start);
                    s.iterations += r.iterations;
                  }
              }
          }
        const unsigned int n = options.trajectories * options.steps;
        log << "\n"
            << cells << "^2 cells, " << n_dofs << " DoFs, " << n << " steps; assembly + AMG setup "
            << std::setprecision(3) << 1e3 * assembly / n << " ms per step (the same for every start)\n";
        log << "  start             CG it/step  ms/step (CG + surrogate)  initial energy error  certified\n";
        for (const std::string &name : starts)
          {
            const Totals &s = totals.at(name);
            log << "  " << std::left << std::setw(18) << name << std::right << std::setw(10) << std::setprecision(3)
                << double(s.iterations) / n << std::setw(10) << 1e3 * (s.cg + s.surrogate) / n << " (" << 1e3 * s.cg / n
                << " + " << 1e3 * s.surrogate / n << ")";
            if (name == "replace")
              log << std::setw(22) << "-" << std::setw(7) << s.certified << "/" << n << ", max error "
                  << s.max_certified_error;
            else
              log << std::setw(22) << s.initial_error / n;
            log << "\n";
          }
      }
  }
} // namespace

int
main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  try
    {
      const Options options = parse_options(argc, argv);
      torch::set_num_threads(1);
      run(options, std::cout);
    }
  catch (const std::exception &error)
    {
      std::cerr << "bench_time_stepping: " << error.what() << std::endl;
      return 1;
    }
  return 0;
}
