// Problem `heat`: one implicit Euler step of the heat equation u_t - div(a grad u) = f on
// the unit square, u = 0 on the boundary (HeatEquation: Q1, CG + Trilinos ML AMG). The
// operator maps (a, u^n) to u^{n+1}; instances are states on trajectories from random
// initial states (issue 5, time stepping; benchmarks/bench_time_stepping runs whole
// trajectories with it).
#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/heat.h>
#include <mpno/plugin/problem.h>

#include "unit_square.h"

#include <optional>
#include <stdexcept>

namespace mpno
{
  namespace Problem
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    class Heat : public UnitSquareProblem
    {
    public:
      static void
      declare_parameters(ParameterHandler &prm)
      {
        prm.enter_subsection("Heat");
        prm.declare_entry("Cells per side", "64", Patterns::Integer(2, 4096), "Q1 cells per side of the unit square.");
        prm.declare_entry("Time step",
                          "0.002",
                          Patterns::Double(0),
                          "The implicit Euler step dt (the diffusion time of the unit square with "
                          "a = 1 is the unit); must be > 0.");
        prm.declare_entry("Forcing value", "10", Patterns::Double(), "The constant source f.");
        prm.declare_entry("Steps per trajectory",
                          "10",
                          Patterns::Integer(1, 1000),
                          "Instance `seed` is step seed % K of trajectory seed / K (K this value): "
                          "its random coefficient and initial state are those of the trajectory.");
        prm.declare_entry("Coefficient grid points",
                          "32",
                          Patterns::Integer(2, 4096),
                          "Grid of the random coefficient (thresholded, piecewise constant) and of the "
                          "random initial state (bilinear, times 16 x (1 - x) y (1 - y)), as problem darcy.");
        prm.declare_entry("Alpha", "2", Patterns::Double(0), "Smoothness of the random fields; must be > 0.");
        prm.declare_entry("Tau", "3", Patterns::Double(0), "Inverse length scale of the random fields; > 0.");
        prm.declare_entry("Coefficient high", "12", Patterns::Double(0), "a where the field is >= 0; > 0.");
        prm.declare_entry("Coefficient low", "3", Patterns::Double(0), "a where the field is < 0; > 0.");
        prm.leave_subsection();
      }

      void
      parse_parameters(ParameterHandler &prm) override
      {
        prm.enter_subsection("Heat");
        parameters.n_cells_per_side        = prm.get_integer("Cells per side");
        parameters.time_step               = prm.get_double("Time step");
        parameters.forcing                 = prm.get_double("Forcing value");
        parameters.max_steps               = prm.get_integer("Steps per trajectory");
        parameters.coefficient_grid_points = prm.get_integer("Coefficient grid points");
        parameters.alpha                   = prm.get_double("Alpha");
        parameters.tau                     = prm.get_double("Tau");
        parameters.high                    = prm.get_double("Coefficient high");
        parameters.low                     = prm.get_double("Coefficient low");
        prm.leave_subsection();
        for (const auto &[value, entry] : {std::pair{parameters.time_step, "Time step"},
                                           {parameters.alpha, "Alpha"},
                                           {parameters.tau, "Tau"},
                                           {parameters.high, "Coefficient high"},
                                           {parameters.low, "Coefficient low"}})
          if (!(value > 0))
            throw std::invalid_argument(std::string("entry 'Problem/Heat/") + entry + "' must be > 0, got " +
                                        std::to_string(value));
      }

      void
      setup() override
      {
        equation.emplace(parameters);
        // B_0 the AMG of a = 1 with the same reaction 1 / dt: since a >= a_min,
        // A >= min(a_min, 1) A_0 (strategy `replace`, as for darcy).
        DarcyParameters d;
        d.n_cells_per_side = parameters.n_cells_per_side;
        reference.emplace(d);
        reference->assemble_system(dealii::Functions::ConstantFunction<2>(1.),
                                   dealii::Functions::ConstantFunction<2>(1.),
                                   1. / parameters.time_step);
        reference->setup_amg();
        reference_bound =
          reference_bound_constant(reference->linear_system()) / std::min({parameters.low, parameters.high, 1.});
      }

      void
      sample(const std::uint64_t seed) override
      {
        equation->sample(seed);
      }

      std::vector<std::string>
      input_names() const override
      {
        return {"coefficient", "state"};
      }

      const dealii::Function<2> &
      input_field(const unsigned int channel) const override
      {
        if (channel == 0)
          return equation->coefficient();
        if (channel == 1)
          return equation->state_function();
        throw std::out_of_range("Problem heat: no input channel " + std::to_string(channel));
      }

      std::string
      output_name() const override
      {
        return "next_state";
      }

      void
      assemble() override
      {
        equation->assemble_step();
      }

      LinearSystem
      linear_system() const override
      {
        LinearSystem system             = equation->linear_system();
        system.reference_preconditioner = &reference->get_amg();
        system.reference_bound          = reference_bound;
        return system;
      }

      const dealii::DoFHandler<2> &
      get_dof_handler() const override
      {
        return equation->get_solver().get_dof_handler();
      }


      std::vector<std::pair<std::string, std::string>>
      attributes() const override
      {
        return {{"equation", "u_t - div(a grad u) = f on (0,1)^2, u = 0 on the boundary; one implicit Euler step"},
                {"cells per side", std::to_string(parameters.n_cells_per_side)},
                {"time step", std::to_string(parameters.time_step)},
                {"forcing value", std::to_string(parameters.forcing)},
                {"steps per trajectory", std::to_string(parameters.max_steps)},
                {"coefficient grid points", std::to_string(parameters.coefficient_grid_points)}};
      }

    private:
      HeatParameters              parameters;
      std::optional<HeatEquation> equation;
      std::optional<DarcySolver>  reference;
      double                      reference_bound = 0;
    };
  } // namespace Problem
} // namespace mpno

MPNO_REGISTER_PROBLEM(2,
                      mpno::Problem::Heat,
                      "heat",
                      "one implicit Euler step of u_t - div(a grad u) = f on the unit square, u = 0 on the "
                      "boundary: the operator maps (a, u^n) to u^{n+1}; Q1, CG + Trilinos ML AMG")
