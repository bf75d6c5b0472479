// bench_hybrid: time to the tolerance of each hybrid strategy against the classical
// solve, per mesh size, on held-out instances of a job's Problem with its trained
// surrogate (issue "Hybrid solvers where a surrogate pays off"). Every figure includes
// what the strategy needs: assembly, the AMG setup when it builds one, inference and the
// field transfers. Not a test: it prints a table and writes a CSV.
//
//   bench_hybrid FILE.prm [--cells 64,128,256] [--instances 10]
//                [--strategies "none,initial guess,replace,replace from zero"]
//                (also: preconditioner, "preconditioner alone", "preconditioner + jacobi",
//                "preconditioner symmetric", "preconditioner unscaled")
//                [--csv FILE] [--reduction] [--coarse-floor 32,65]
//
// FILE.prm is an mpno job file (Problem darcy, `Hybrid solver` entries, the checkpoint
// from `Hybrid solver/Checkpoint`, else `Checkpoint`, else OUTPUT/checkpoint). --cells
// sets `Problem/Darcy/Cells per side`. "replace from zero" is strategy replace with
// `Replace/Initial guess = zero`: the certified solve without the surrogate; the
// preconditioner variants set `Preconditioner/Classical part` (amg, none, jacobi),
// `Symmetric` or `Energy-optimal scaling` (the file's other entries kept) and need
// a surrogate whose last input channel is the right-hand side. --reduction prints, for
// the first instance, the energy-norm error left by one application of the operator, the
// AMG and their composition (such a surrogate only). --coarse-floor G1,G2 gives the floor
// of strategy `preconditioner` for operators on G x G grids (coarse_floor.h): flexible CG
// iterations and one-application reductions with the best correction any such operator
// can give (the Galerkin coarse-grid correction of the grid's interpolation), composed
// with the AMG as `preconditioner` and `preconditioner symmetric` compose the operator.
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/linear_solve.h>
#include <mpno/coupling/surrogate_model.h>
#include <mpno/plugin/hybrid_solver.h>
#include <mpno/plugin/parameters.h>
#include <mpno/surrogate/io_utils.h>

#include <torch/torch.h>

#include "../plugin/source/job_common.h"
#include "../plugin/source/job_parameters.h"
#include "bench_options.h"
#include "coarse_floor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
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

  std::vector<std::string>
  split(const std::string &list)
  {
    std::vector<std::string> items;
    std::stringstream        in(list);
    std::string              item;
    while (std::getline(in, item, ','))
      {
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty())
          items.push_back(item);
      }
    return items;
  }

  /** ||v||_A. */
  double
  energy_norm(const LinearSystem &system, const dealii::Vector<double> &v)
  {
    dealii::Vector<double> av(v.size());
    system.matrix->vmult(av, v);
    return std::sqrt(std::max(0., v * av));
  }

  /** Sums over the instances of one (mesh, strategy). */
  struct Totals
  {
    unsigned int instances = 0, iterations = 0, strategy_iterations = 0, certified = 0, fallbacks = 0;
    double       total = 0, assembly = 0, amg = 0, surrogate = 0, solve = 0;
    double       max_certified_error = 0, max_certified_l2_error = 0, max_bound = 0;
    double       max_residual_uncertified = 0;
  };

  struct Options
  {
    std::filesystem::path     parameter_file;
    std::vector<unsigned int> cells{64, 128, 256};
    unsigned int              instances = 10;
    std::vector<std::string>  strategies{"none", "initial guess", "replace", "replace from zero"};
    std::string               csv       = "bench_hybrid.csv";
    bool                      reduction = false;
    std::vector<unsigned int> coarse_floor;
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
          {
            options.cells.clear();
            for (const std::string &c : split(value()))
              options.cells.push_back(static_cast<unsigned int>(bench::parse_integer("--cells", c, 2)));
          }
        else if (arg == "--instances")
          options.instances = static_cast<unsigned int>(bench::parse_integer("--instances", value(), 1));
        else if (arg == "--strategies")
          options.strategies = split(value());
        else if (arg == "--csv")
          options.csv = value();
        else if (arg == "--reduction")
          options.reduction = true;
        else if (arg == "--coarse-floor")
          for (const std::string &g : split(value()))
            options.coarse_floor.push_back(static_cast<unsigned int>(bench::parse_integer("--coarse-floor", g, 2)));
        else if (!arg.empty() && arg[0] != '-' && options.parameter_file.empty())
          options.parameter_file = arg;
        else
          throw std::invalid_argument("unknown option '" + arg + "' (see the head of bench_hybrid.cc)");
      }
    if (options.parameter_file.empty())
      throw std::invalid_argument("usage: bench_hybrid FILE.prm [--cells 64,128,256] [--instances N] "
                                  "[--strategies LIST] [--csv FILE] [--reduction] [--coarse-floor G,...]");
    return options;
  }

  std::filesystem::path
  checkpoint_of(plugin::JobContext &job)
  {
    job.prm.enter_subsection("Hybrid solver");
    const std::string hybrid = job.prm.get("Checkpoint");
    job.prm.leave_subsection();
    if (!hybrid.empty())
      return plugin::resolve_path(hybrid, job.parameter_file);
    const std::string top = job.prm.get("Checkpoint");
    if (!top.empty())
      return plugin::resolve_path(top, job.parameter_file);
    return job.output_directory / "checkpoint";
  }

  /** The HybridSolver of @p strategy: a registered name, or one of the variants
   *  "replace from zero" (Replace/Initial guess = zero), "preconditioner alone" and
   *  "preconditioner + jacobi" (Preconditioner/Classical part = none, jacobi),
   *  "preconditioner symmetric" (Symmetric = true) and "preconditioner unscaled"
   *  (Energy-optimal scaling = false). */
  HybridSolver<2>
  make_solver(plugin::JobContext &job, const std::string &strategy)
  {
    struct Variant
    {
      std::string                                      strategy, subsection;
      std::vector<std::pair<std::string, std::string>> entries;
    };
    // Every preconditioner variant sets all three entries: its label holds whatever the file sets.
    const auto preconditioner =
      [](const std::string &classical, const std::string &symmetric, const std::string &scaled) {
        return Variant{"preconditioner",
                       "Preconditioner",
                       {{"Classical part", classical}, {"Symmetric", symmetric}, {"Energy-optimal scaling", scaled}}};
      };
    const std::map<std::string, Variant> variants{
      {"replace", {"replace", "Replace", {{"Initial guess", "prediction"}}}},
      {"replace from zero", {"replace", "Replace", {{"Initial guess", "zero"}}}},
      {"preconditioner", preconditioner("amg", "false", "true")},
      {"preconditioner alone", preconditioner("none", "false", "true")},
      {"preconditioner + jacobi", preconditioner("jacobi", "false", "true")},
      {"preconditioner symmetric", preconditioner("amg", "true", "true")},
      {"preconditioner unscaled", preconditioner("amg", "false", "false")}};
    // The variant's entries are set for this solver only: the file's values are restored after.
    const auto variant = variants.find(strategy);
    const auto set     = [&](const std::string &name, const std::vector<std::pair<std::string, std::string>> &entries) {
      job.prm.enter_subsection("Hybrid solver");
      job.prm.set("Strategy", name);
      std::vector<std::pair<std::string, std::string>> previous;
      if (variant != variants.end())
        {
          job.prm.enter_subsection(variant->second.subsection);
          for (const auto &[entry, value] : entries)
            {
              previous.emplace_back(entry, job.prm.get(entry));
              job.prm.set(entry, value);
            }
          job.prm.leave_subsection();
        }
      job.prm.leave_subsection();
      return previous;
    };
    const auto file_values =
      variant != variants.end() ? set(variant->second.strategy, variant->second.entries) : set(strategy, {});
    HybridSolver<2> solver;
    solver.parse_parameters(job.prm, job.parameter_file);
    solver.set_device(job.prm.get("Device"));
    if (variant != variants.end())
      set(variant->second.strategy, file_values);
    return solver;
  }

  /**
   * One application of each preconditioner to a residual r = A e of the first instance:
   * ||e - z||_A / ||e||_A for z = NO(r), alpha NO(r) (alpha = NO(r)^T r / NO(r)^T A NO(r),
   * the energy-optimal multiple), B r (the instance's AMG), B applied twice (z = B r, then
   * B on r - A z), the composition alpha NO(r) + B (r - A alpha NO(r)) and the symmetric
   * composition (B, alpha NO, B), for e = u_h (r = b, the input the operator was trained
   * on) and for the error left by one AMG step from zero (a rough residual).
   */
  void
  print_reduction(const LinearSystem                             &system,
                  const HybridSolver<2>                          &solver,
                  const std::vector<const dealii::Function<2> *> &inputs,
                  const dealii::Vector<double>                   &reference,
                  std::ostream                                   &log)
  {
    const auto       &B = system.get_preconditioner();
    const bench::Part amg{[&B](dealii::Vector<double> &d, const dealii::Vector<double> &s) { B.vmult(d, s); }};
    const bench::Part operator_{[&](dealii::Vector<double> &d, const dealii::Vector<double> &s) {
      solver.apply_surrogate(system, inputs, s, d);
    }};
    const bench::Part scaled{operator_.apply, true};
    const auto        after = [&](const dealii::Vector<double> &e, const std::string &which) {
      log << "  " << std::left << std::setw(32) << which << std::right << std::setprecision(3);
      for (const auto &parts : std::vector<std::vector<bench::Part>>{{operator_},
                                                                     {scaled},
                                                                     {amg},
                                                                     {amg, amg},
                                                                     {operator_, amg},
                                                                     {scaled, amg},
                                                                     {amg, scaled, amg}})
        log << std::setw(10) << bench::error_left(system, parts, e);
      log << "\n";
    };
    log << "  one application, ||e - z||_A / ||e||_A:\n"
        << "  " << std::setw(32) << "" << std::right << std::setw(10) << "NO(r)" << std::setw(10) << "aNO(r)"
        << std::setw(10) << "B r" << std::setw(10) << "B, B" << std::setw(10) << "NO, B" << std::setw(10) << "aNO, B"
        << std::setw(10) << "B,aNO,B"
        << "\n";
    after(reference, "e = u_h (r = b)");
    dealii::Vector<double> x(reference.size()), e = reference;
    B.vmult(x, *system.rhs);
    system.constraints->set_zero(x);
    e -= x;
    after(e, "e after one AMG step (rough r)");
  }

  /**
   * The floor of strategy `preconditioner` on this instance (coarse_floor.h): adds the
   * flexible CG iterations to relative residual @p tolerance of B (the instance's AMG),
   * B twice, and, per grid G of @p grids, G then B and B, G, B, with G the best
   * correction from that grid, to @p iterations; with @p print, prints their
   * one-application reductions for e = u_h and for the error after one AMG step.
   */
  void
  add_coarse_floor(const LinearSystem              &system,
                   const Problem::Interface<2>     &problem,
                   const std::vector<unsigned int> &grids,
                   const double                     tolerance,
                   const dealii::Vector<double>    &reference,
                   const bool                       print,
                   std::map<std::string, double>   &iterations,
                   std::vector<std::string>        &names,
                   std::ostream                    &log)
  {
    const auto       &B = system.get_preconditioner();
    const bench::Part amg{[&B](dealii::Vector<double> &d, const dealii::Vector<double> &s) { B.vmult(d, s); }};
    std::vector<std::pair<std::string, std::vector<bench::Part>>> compositions{{"B", {amg}}, {"B, B", {amg, amg}}};
    std::vector<std::pair<std::string, bench::Part>>              alone;
    const auto [lower, upper] = problem.bounding_box();
    for (const unsigned int n : grids)
      {
        const GridTransfer<2> transfer(problem.get_mapping(), problem.get_dof_handler(), {n, n}, lower, upper);
        const auto            G    = std::make_shared<const bench::GalerkinCoarseCorrection>(system, transfer);
        const std::string     name = "G" + std::to_string(n);
        const bench::Part     g{[G](dealii::Vector<double> &d, const dealii::Vector<double> &s) { G->vmult(d, s); }};
        alone.emplace_back(name, g);
        compositions.push_back({name + ", B", {g, amg}});
        compositions.push_back({"B, " + name + ", B", {amg, g, amg}});
      }
    names.clear();
    for (const auto &[name, parts] : compositions)
      {
        iterations[name] += bench::fcg_iterations(system, parts, tolerance);
        names.push_back(name);
      }
    if (!print)
      return;
    dealii::Vector<double> x(reference.size()), rough = reference;
    B.vmult(x, *system.rhs);
    system.constraints->set_zero(x);
    rough -= x;
    log << "  coarse floor, one application, ||e - z||_A / ||e||_A (G = the best correction from a G x G grid):\n";
    for (const auto &[which, e] : {std::pair<std::string, const dealii::Vector<double> &>{"e = u_h", reference},
                                   {"e after one AMG step", rough}})
      {
        log << "    " << std::left << std::setw(22) << which << std::right << std::setprecision(3);
        for (const auto &[name, g] : alone)
          log << "  " << name << " " << bench::error_left(system, {g}, e);
        for (const auto &[name, parts] : compositions)
          log << "  " << name << " " << bench::error_left(system, parts, e);
        log << "\n";
      }
  }

  void
  run(const Options &options, std::ostream &log)
  {
    plugin::JobContext job(options.parameter_file, "");
    if (job.dimension != 2 || job.problem_name != "darcy")
      throw std::invalid_argument("bench_hybrid: expected a 2D job with Problem/Name = darcy in '" +
                                  options.parameter_file.string() + "'");
    const plugin::HybridRunSettings run_settings = plugin::read_hybrid_run_settings(job.prm);
    const std::filesystem::path     checkpoint   = checkpoint_of(job);
    job.prm.enter_subsection("Hybrid solver");
    const double tolerance = job.prm.get_double("Relative tolerance");
    job.prm.leave_subsection();
    auto model = std::make_shared<const SurrogateModel>(checkpoint, job.prm.get("Device"));
    log << "bench_hybrid: " << options.parameter_file.string() << ", surrogate " << model->description() << " ("
        << checkpoint.string() << "), " << options.instances << " held-out instances per mesh, "
        << torch::get_num_threads() << " LibTorch thread(s)" << std::endl;

    std::ostringstream csv;
    csv << "cells,n_dofs,strategy,instance,seed,assembly_seconds,amg_setup_seconds,surrogate_seconds,"
           "solve_seconds,total_seconds,iterations,strategy_iterations,certified,used_prediction,"
           "error_bound,energy_error,l2_error,final_relative_residual\n"
        << std::setprecision(6);

    for (const unsigned int cells : options.cells)
      {
        job.prm.enter_subsection("Problem");
        job.prm.enter_subsection("Darcy");
        job.prm.set("Cells per side", std::to_string(cells));
        job.prm.leave_subsection();
        job.prm.leave_subsection();
        auto       problem     = plugin::create_problem<2>(job.prm, job.parameter_file);
        const auto setup_start = Clock::now();
        problem->setup();
        const double setup_seconds = seconds_since(setup_start);
        const auto [lower, upper]  = problem->bounding_box();

        std::map<std::string, HybridSolver<2>> solvers;
        for (const std::string &name : options.strategies)
          {
            HybridSolver<2> &solver = solvers.emplace(name, make_solver(job, name)).first->second;
            solver.set_surrogate(model);
            solver.initialize(problem->get_mapping(), problem->get_dof_handler(), lower, upper);
          }
        std::map<std::string, Totals> totals;
        std::map<std::string, double> floor_iterations;
        std::vector<std::string>      floor_names;
        dealii::Vector<double>        reference, solution, error;
        const std::size_t             n_dofs = problem->get_dof_handler().n_dofs();

        // Instance -1 warms up LibTorch and the caches; it is not counted.
        for (int i = -1; i < int(options.instances); ++i)
          {
            const std::uint64_t seed = run_settings.seed + plugin::hybrid_seed_offset + std::uint64_t(i + 1);
            problem->sample(seed);
            // The discrete solution u_h (untimed), for the true errors.
            problem->assemble();
            {
              KrylovSettings tight;
              tight.relative_tolerance = 1e-11; // 1e-12 is below rounding at n = 512
              reference.reinit(n_dofs);
              solve_cg(problem->linear_system(), reference, tight);
            }
            if (i == 0 && options.reduction && model->n_input_channels() >= 2)
              {
                std::vector<const dealii::Function<2> *> inputs;
                for (unsigned int c = 0; c < problem->input_names().size(); ++c)
                  inputs.push_back(&problem->input_field(c));
                log << "\nn = " << cells << ", instance 0:\n";
                print_reduction(problem->linear_system(), solvers.begin()->second, inputs, reference, log);
              }
            if (i >= 0 && !options.coarse_floor.empty())
              {
                if (i == 0 && !(options.reduction && model->n_input_channels() >= 2))
                  log << "\nn = " << cells << ", instance 0:\n";
                add_coarse_floor(problem->linear_system(),
                                 *problem,
                                 options.coarse_floor,
                                 tolerance,
                                 reference,
                                 i == 0,
                                 floor_iterations,
                                 floor_names,
                                 log);
              }
            for (const std::string &name : options.strategies)
              {
                HybridSolver<2> &solver = solvers.at(name);
                const auto       start  = Clock::now();
                problem->assemble();
                const double assembly = seconds_since(start);
                LinearSystem system   = problem->linear_system();
                double       amg      = 0;
                if (system.preconditioner == nullptr && system.make_preconditioner)
                  system.make_preconditioner = [build = system.make_preconditioner,
                                                &amg]() -> const dealii::TrilinosWrappers::PreconditionBase & {
                    const auto  amg_start = Clock::now();
                    const auto &B         = build();
                    amg += seconds_since(amg_start);
                    return B;
                  };
                std::vector<const dealii::Function<2> *> inputs;
                for (unsigned int c = 0; c < problem->input_names().size(); ++c)
                  inputs.push_back(&problem->input_field(c));
                HybridSolveReport report;
                try
                  {
                    report = solver.solve(system, inputs, solution);
                  }
                catch (const dealii::SolverControl::NoConvergence &error)
                  {
                    throw std::runtime_error("strategy '" + name + "' on " + std::to_string(cells) +
                                             " cells per side, instance " + std::to_string(i) + " (seed " +
                                             std::to_string(seed) + "): no convergence, relative residual " +
                                             std::to_string(error.last_residual) + " after " +
                                             std::to_string(error.last_step) + " iterations");
                  }
                const double total = seconds_since(start);
                if (i < 0)
                  continue;

                error = solution;
                error -= reference;
                const double energy_error = energy_norm(system, error) / energy_norm(system, reference);
                const double l2_error     = error.l2_norm() / reference.l2_norm();
                const auto  &r            = report.result;
                Totals      &t            = totals[name];
                ++t.instances;
                t.total += total;
                t.assembly += assembly;
                t.amg += amg;
                t.surrogate += report.inference_seconds + report.transfer_seconds;
                t.solve += report.solve_seconds - amg;
                t.iterations += r.krylov.iterations;
                t.strategy_iterations += r.strategy_iterations;
                if (r.certified)
                  {
                    ++t.certified;
                    t.max_certified_error    = std::max(t.max_certified_error, energy_error);
                    t.max_certified_l2_error = std::max(t.max_certified_l2_error, l2_error);
                    t.max_bound              = std::max(t.max_bound, r.error_bound);
                  }
                else
                  t.max_residual_uncertified = std::max(t.max_residual_uncertified, r.krylov.final_relative_residual);
                if (!r.fallback_reason.empty())
                  ++t.fallbacks;
                csv << cells << ',' << n_dofs << ",\"" << name << "\"," << i << ',' << seed << ',' << assembly << ','
                    << amg << ',' << report.inference_seconds + report.transfer_seconds << ','
                    << report.solve_seconds - amg << ',' << total << ',' << r.krylov.iterations << ','
                    << r.strategy_iterations << ',' << r.certified << ',' << r.used_prediction << ',' << r.error_bound
                    << ',' << energy_error << ',' << l2_error << ',' << r.krylov.final_relative_residual << '\n';
              }
          }

        log << "\nn = " << cells << " (" << n_dofs << " DoFs; problem setup incl. the reference AMG " << std::fixed
            << std::setprecision(3) << setup_seconds << " s, once), means per instance in ms:\n"
            << "  strategy                 total  assembly    AMG  surrogate  solve  all it  own it  certified  "
               "max err_A  max bound  vs none\n";
        const double none_total = totals.count("none") ? totals.at("none").total : 0.;
        for (const std::string &name : options.strategies)
          {
            const Totals &t = totals.at(name);
            const double  n = t.instances;
            log << "  " << std::left << std::setw(23) << name << std::right << std::fixed << std::setprecision(1)
                << std::setw(7) << 1e3 * t.total / n << std::setw(10) << 1e3 * t.assembly / n << std::setw(7)
                << 1e3 * t.amg / n << std::setw(11) << 1e3 * t.surrogate / n << std::setw(7) << 1e3 * t.solve / n
                << std::setw(7) << t.iterations / n << std::setw(9) << t.strategy_iterations / n << std::setw(7)
                << t.certified << "/" << t.instances << std::setprecision(4) << std::setw(11)
                << (t.certified ? t.max_certified_error : std::nan("")) << std::setw(11)
                << (t.certified ? t.max_bound : std::nan("")) << std::setprecision(2) << std::setw(9)
                << (none_total > 0 ? t.total / none_total : std::nan("")) << "\n";
          }
        if (!floor_names.empty())
          {
            log << "  coarse floor, flexible CG iterations (mean):";
            for (const std::string &name : floor_names)
              log << "  " << name << " " << std::fixed << std::setprecision(1)
                  << floor_iterations.at(name) / options.instances;
            log << "\n";
          }
        log << std::defaultfloat;
      }
    io::write_file_atomically(options.csv, csv.str());
    log << "\nPer-instance figures: " << options.csv << std::endl;
  }
} // namespace

int
main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  try
    {
      run(parse_options(argc, argv), std::cout);
    }
  catch (const std::exception &error)
    {
      std::cerr << "bench_hybrid: " << error.what() << std::endl;
      return 1;
    }
  return 0;
}
