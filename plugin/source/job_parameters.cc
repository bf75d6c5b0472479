#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/patterns.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/hybrid_solver.h>
#include <mpno/plugin/parameters.h>

#include "job_common.h"
#include "job_parameters.h"

namespace mpno
{
  namespace plugin
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    namespace
    {
      template <int dim>
      void
      declare_problem_for(ParameterHandler &prm)
      {
        const auto &registry = Problem::registry<dim>();
        prm.enter_subsection("Problem");
        const std::string names = registry.names();
        prm.declare_entry("Name",
                          names.empty() ? "" : names.substr(0, names.find('|')),
                          names.empty() ? static_cast<const Patterns::PatternBase &>(Patterns::Anything()) :
                                          static_cast<const Patterns::PatternBase &>(Patterns::Selection(names)),
                          "The deal.II simulation that generates the data and whose systems the "
                          "hybrid solver solves, one of: " +
                            (names.empty() ? std::string("(none registered in this dimension)") :
                                             registry.documentation()) +
                            ". Its parameters are in its own subsection.");
        registry.declare_parameters(prm);
        prm.leave_subsection();
      }
    } // namespace

    void
    declare_problem(ParameterHandler &prm, const int dim)
    {
      if (dim == 3)
        declare_problem_for<3>(prm);
      else
        declare_problem_for<2>(prm);
    }

    void
    declare_data_generation(ParameterHandler &prm)
    {
      prm.enter_subsection("Data generation");
      prm.declare_entry("Training instances",
                        "1000",
                        Patterns::Integer(1),
                        "Instances solved classically for the training set (seeds Seed + i).");
      prm.declare_entry("Test instances",
                        "100",
                        Patterns::Integer(0),
                        "Held-out instances for the test sets (seeds Seed + 1e9 + i), sampled "
                        "at each of the Test grid points.");
      prm.declare_entry("Training grid points",
                        "32",
                        Patterns::Integer(2, 4096),
                        "Points per axis of the uniform grid (boundary included) of the training "
                        "set, the operator's training resolution; a problem on another grid says "
                        "what n means (sphere: n latitudes).");
      prm.declare_entry("Test grid points",
                        "32, 64",
                        Patterns::List(Patterns::Integer(2, 4096), 0),
                        "Resolutions of the test sets (test_N in dataset.h5): the training "
                        "resolution and finer ones for zero-shot super-resolution. Point clouds "
                        "(problem holes, model gino): the latent grid, which must equal Training "
                        "grid points.");
      prm.declare_entry("Seed", "0", Patterns::Integer(0), "Base seed of all instances (data and hybrid solves).");
      prm.declare_entry("Relative tolerance",
                        "1e-10",
                        Patterns::Double(0),
                        "Relative residual of the classical solves that produce the data; must "
                        "be > 0 and < 1.");
      prm.declare_entry("Max iterations", "1000", Patterns::Integer(1), "CG iterations allowed per solve.");
      prm.declare_entry("Export pt",
                        "false",
                        Patterns::Bool(),
                        "Also write each set as NAME.pt (a dict with x and y, torch.load "
                        "readable) for neuraloperator users.");
      prm.leave_subsection();
    }

    void
    declare_hybrid_solver(ParameterHandler &prm, const int dim)
    {
      if (dim == 3)
        HybridSolver<3>::declare_parameters(prm);
      else
        HybridSolver<2>::declare_parameters(prm);
      prm.enter_subsection("Hybrid solver");
      prm.declare_entry("Instances",
                        "20",
                        Patterns::Integer(0),
                        "Held-out instances `mpno solve` solves (seeds Seed + 2e9 + i), each "
                        "from zero (the baseline) and with the strategy.");
      prm.declare_entry("VTU instances",
                        "2",
                        Patterns::Integer(0),
                        "Write solution-NNN.vtu (input fields, FE solution, prediction, error) for "
                        "the first this many instances.");
      prm.leave_subsection();
    }

    GenerationSettings
    read_generation_settings(ParameterHandler &prm, const std::filesystem::path &parameter_file)
    {
      GenerationSettings s;
      prm.enter_subsection("Data generation");
      s.training_instances = prm.get_integer("Training instances");
      s.test_instances     = prm.get_integer("Test instances");
      s.training_points    = prm.get_integer("Training grid points");
      s.test_points.clear();
      for (const std::string &n : dealii::Utilities::split_string_list(prm.get("Test grid points")))
        s.test_points.push_back(dealii::Utilities::string_to_int(n));
      s.seed                      = prm.get_integer("Seed");
      s.krylov.relative_tolerance = prm.get_double("Relative tolerance");
      s.krylov.max_iterations     = prm.get_integer("Max iterations");
      s.export_pt                 = prm.get_bool("Export pt");
      prm.leave_subsection();
      if (!(s.krylov.relative_tolerance > 0 && s.krylov.relative_tolerance < 1))
        throw UserError("in parameter file '" + parameter_file.string() +
                        "', entry 'Data generation/Relative tolerance': must be > 0 and < 1");
      for (std::size_t i = 0; i < s.test_points.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
          if (s.test_points[i] == s.test_points[j])
            throw UserError("in parameter file '" + parameter_file.string() +
                            "', entry 'Data generation/Test grid points': " + std::to_string(s.test_points[i]) +
                            " is given twice");
      return s;
    }

    HybridRunSettings
    read_hybrid_run_settings(ParameterHandler &prm)
    {
      HybridRunSettings s;
      prm.enter_subsection("Hybrid solver");
      s.instances     = prm.get_integer("Instances");
      s.vtu_instances = prm.get_integer("VTU instances");
      prm.leave_subsection();
      prm.enter_subsection("Data generation");
      s.seed = prm.get_integer("Seed");
      prm.leave_subsection();
      return s;
    }

    template <int dim>
    std::unique_ptr<Problem::Interface<dim>>
    create_problem(ParameterHandler &prm, const std::filesystem::path &parameter_file)
    {
      const std::string where = "in parameter file '" + parameter_file.string() + "', ";
      prm.enter_subsection("Problem");
      const std::string                        name = prm.get("Name");
      std::unique_ptr<Problem::Interface<dim>> problem;
      try
        {
          problem = Problem::registry<dim>().create(name);
          problem->parse_parameters(prm);
        }
      catch (const std::exception &error)
        {
          prm.leave_subsection();
          throw UserError(where + "subsection Problem (Name = " + name + ", Dimension = " + std::to_string(dim) +
                          "): " + message_of(error));
        }
      prm.leave_subsection();
      return problem;
    }

    template std::unique_ptr<Problem::Interface<2>>
    create_problem<2>(ParameterHandler &, const std::filesystem::path &);
    template std::unique_ptr<Problem::Interface<3>>
    create_problem<3>(ParameterHandler &, const std::filesystem::path &);
  } // namespace plugin
} // namespace mpno
