// Problem `nonlinear darcy`: -div(a(x) k(u) grad u) = f on the unit square, u = 0 on the
// boundary, k(u) = 1 + u^2 or exp(beta u), a the darcy problem's random two-valued coefficient, solved by
// Newton's method (NonlinearDarcySolver: GMRES + Trilinos ML AMG rebuilt every step).
// The surrogate's prediction starts Newton (issue 5, "Newton initial guess").
#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/darcy.h>
#include <mpno/coupling/nonlinear_darcy.h>
#include <mpno/coupling/random_field.h>
#include <mpno/plugin/problem.h>

#include "unit_square.h"

#include <memory>
#include <optional>
#include <stdexcept>

namespace mpno
{
  namespace Problem
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    class NonlinearDarcy : public UnitSquareProblem
    {
    public:
      static void
      declare_parameters(ParameterHandler &prm)
      {
        prm.enter_subsection("Nonlinear Darcy");
        prm.declare_entry("Cells per side", "128", Patterns::Integer(2, 4096), "Q1 cells per side of the unit square.");
        prm.declare_entry("Coefficient grid points",
                          "32",
                          Patterns::Integer(2, 4096),
                          "Grid of the random coefficient a (thresholded Gaussian random field, "
                          "piecewise constant), as problem darcy.");
        prm.declare_entry("Alpha", "2", Patterns::Double(0), "Smoothness of the random field; must be > 0.");
        prm.declare_entry("Tau", "3", Patterns::Double(0), "Inverse length scale of the random field; > 0.");
        prm.declare_entry("Coefficient high", "12", Patterns::Double(0), "a where the field is >= 0; > 0.");
        prm.declare_entry("Coefficient low", "3", Patterns::Double(0), "a where the field is < 0; > 0.");
        prm.declare_entry("Nonlinearity",
                          "quadratic",
                          Patterns::Selection("quadratic|exponential"),
                          "k(u) = 1 + u^2 (quadratic) or exp(Beta u) (exponential).");
        prm.declare_entry("Beta", "1", Patterns::Double(0), "The factor of k(u) = exp(Beta u); must be > 0.");
        prm.declare_entry("Forcing value",
                          "100",
                          Patterns::Double(),
                          "The constant source f; 100 makes max |u| of O(1), where k(u) = 1 + u^2 "
                          "matters.");
        prm.declare_entry("Relative tolerance",
                          "1e-10",
                          Patterns::Double(0, 1),
                          "Newton stops at ||R(u)|| <= this times ||R(0)|| (R the discrete residual).");
        prm.declare_entry("Max Newton steps", "30", Patterns::Integer(1, 1000), "Newton steps allowed per solve.");
        prm.declare_entry("Eta max",
                          "0.1",
                          Patterns::Double(0, 1),
                          "Cap of the Eisenstat-Walker forcing term (GMRES tolerance per step); 0: "
                          "exact Newton.");
        prm.declare_entry("Classical start",
                          "linear",
                          Patterns::Selection("linear|zero|kirchhoff"),
                          "The classical starting point the surrogate's is compared with: the "
                          "solution of the linear problem k = 1 (CG + AMG to 1e-6, its cost "
                          "counted), zero, or the Kirchhoff transform's K^{-1} of that solution "
                          "(K' = k; the continuous problem is linear in K(u)).");
        prm.leave_subsection();
      }

      void
      parse_parameters(ParameterHandler &prm) override
      {
        prm.enter_subsection("Nonlinear Darcy");
        parameters.n_cells_per_side   = prm.get_integer("Cells per side");
        n_coefficient_points          = prm.get_integer("Coefficient grid points");
        alpha                         = prm.get_double("Alpha");
        tau                           = prm.get_double("Tau");
        high                          = prm.get_double("Coefficient high");
        low                           = prm.get_double("Coefficient low");
        forcing_value                 = prm.get_double("Forcing value");
        parameters.nonlinearity       = nonlinearity_from_string(prm.get("Nonlinearity"));
        parameters.beta               = prm.get_double("Beta");
        parameters.relative_tolerance = prm.get_double("Relative tolerance");
        parameters.max_newton_steps   = prm.get_integer("Max Newton steps");
        parameters.eta_max            = prm.get_double("Eta max");
        start                         = prm.get("Classical start");
        prm.leave_subsection();
        for (const auto &[value, entry] : {std::pair{alpha, "Alpha"},
                                           {tau, "Tau"},
                                           {high, "Coefficient high"},
                                           {low, "Coefficient low"},
                                           {parameters.beta, "Beta"},
                                           {parameters.relative_tolerance, "Relative tolerance"}})
          if (!(value > 0))
            throw std::invalid_argument(std::string("entry 'Problem/Nonlinear Darcy/") + entry + "' must be > 0, got " +
                                        std::to_string(value));
        if (!(parameters.eta_max < 1))
          throw std::invalid_argument("entry 'Problem/Nonlinear Darcy/Eta max' must be < 1, got " +
                                      std::to_string(parameters.eta_max));
      }

      void
      setup() override
      {
        solver.emplace(parameters);
        field.emplace(n_coefficient_points, alpha, tau);
        forcing = std::make_unique<dealii::Functions::ConstantFunction<2>>(forcing_value);
      }

      void
      sample(const std::uint64_t seed) override
      {
        coefficient = std::make_unique<GridFunction>(n_coefficient_points,
                                                     n_coefficient_points,
                                                     threshold(field->sample(seed), high, low),
                                                     GridFunction::Interpolation::piecewise_constant);
        solver->set_problem(*coefficient, *forcing);
        system_is_current = false;
      }

      std::vector<std::string>
      input_names() const override
      {
        return {"coefficient"};
      }

      const dealii::Function<2> &
      input_field(const unsigned int channel) const override
      {
        if (!coefficient)
          throw std::logic_error("Problem nonlinear darcy: input_field() before sample()");
        if (channel != 0)
          throw std::out_of_range("Problem nonlinear darcy: no input channel " + std::to_string(channel));
        return *coefficient;
      }

      bool
      is_nonlinear() const override
      {
        return true;
      }

      /** The linearisation at u = 0, the k = 1 problem: J(0) w = -R(0). */
      void
      assemble() override
      {
        if (!coefficient)
          throw std::logic_error("Problem nonlinear darcy: assemble() before sample()");
        const dealii::Vector<double> zero(solver->get_dof_handler().n_dofs());
        solver->assemble_jacobian(zero, rhs);
        rhs *= -1.;
        amg_is_current    = false;
        system_is_current = true;
      }

      /** The system of assemble(), its AMG built on first use. @throws std::logic_error
       *  after sample(), classical_start() or solve_nonlinear() (they re-assemble the
       *  matrix) until the next assemble(). */
      LinearSystem
      linear_system() const override
      {
        if (!system_is_current)
          throw std::logic_error("Problem nonlinear darcy: linear_system() needs assemble() after the last sample(), "
                                 "classical_start() or solve_nonlinear()");
        LinearSystem system{&solver->jacobian(), &rhs, &solver->get_constraints(), nullptr};
        system.make_preconditioner = [this]() -> const dealii::TrilinosWrappers::PreconditionBase & {
          if (!amg_is_current)
            {
              dealii::TrilinosWrappers::PreconditionAMG::AdditionalData data;
              data.elliptic        = true;
              data.smoother_type   = "Chebyshev";
              data.smoother_sweeps = 2;
              amg.initialize(solver->jacobian(), data);
              amg_is_current = true;
            }
          return amg;
        };
        return system;
      }

      NonlinearSolveReport
      classical_start(dealii::Vector<double> &u) override
      {
        if (!coefficient)
          throw std::logic_error("Problem nonlinear darcy: classical_start() before sample()");
        NewtonResult timing;
        u.reinit(solver->get_dof_handler().n_dofs());
        if (start != "zero")
          solver->solve_linear(u, 1e-6, timing);
        if (start == "kirchhoff")
          solver->kirchhoff_guess(u);
        amg_is_current = system_is_current = false; // solve_linear() re-assembled the matrix
        NonlinearSolveReport report;
        report.converged                 = true;
        report.status                    = start + " start";
        report.linear_iterations         = timing.linear_iterations;
        report.initial_relative_residual = report.final_relative_residual = solver->relative_residual(u);
        report.seconds                                                    = timing.total_seconds();
        return report;
      }

      NonlinearSolveReport
      solve_nonlinear(dealii::Vector<double> &u) override
      {
        if (!coefficient)
          throw std::logic_error("Problem nonlinear darcy: solve_nonlinear() before sample()");
        const NewtonResult result = solver->solve(u);
        amg_is_current = system_is_current = false;
        NonlinearSolveReport report;
        report.converged                 = result.converged();
        report.status                    = to_string(result.status);
        report.steps                     = result.newton_steps;
        report.linear_iterations         = result.linear_iterations;
        report.initial_relative_residual = result.initial_relative_residual;
        report.final_relative_residual   = result.final_relative_residual;
        report.seconds                   = result.total_seconds();
        return report;
      }

      const dealii::DoFHandler<2> &
      get_dof_handler() const override
      {
        return solver->get_dof_handler();
      }


      std::vector<std::pair<std::string, std::string>>
      attributes() const override
      {
        return {{"equation", "-div(a k(u) grad u) = f on (0,1)^2, u = 0 on the boundary"},
                {"k",
                 parameters.nonlinearity == Nonlinearity::quadratic ? "1 + u^2" :
                                                                      "exp(" + std::to_string(parameters.beta) + " u)"},
                {"cells per side", std::to_string(parameters.n_cells_per_side)},
                {"coefficient grid points", std::to_string(n_coefficient_points)},
                {"alpha", std::to_string(alpha)},
                {"tau", std::to_string(tau)},
                {"coefficient high", std::to_string(high)},
                {"coefficient low", std::to_string(low)},
                {"forcing value", std::to_string(forcing_value)},
                {"newton tolerance", std::to_string(parameters.relative_tolerance)}};
      }

    private:
      NonlinearDarcyParameters                          parameters;
      unsigned int                                      n_coefficient_points = 32;
      double                                            alpha = 2., tau = 3., high = 12., low = 3.;
      double                                            forcing_value = 100.;
      std::string                                       start         = "linear";
      std::optional<NonlinearDarcySolver>               solver;
      std::optional<GaussianRandomField<2>>             field;
      std::unique_ptr<dealii::Function<2>>              coefficient;
      std::unique_ptr<dealii::Function<2>>              forcing;
      dealii::Vector<double>                            rhs;
      mutable dealii::TrilinosWrappers::PreconditionAMG amg;
      mutable bool                                      amg_is_current    = false;
      bool                                              system_is_current = false;
    };
  } // namespace Problem
} // namespace mpno

MPNO_REGISTER_PROBLEM(2,
                      mpno::Problem::NonlinearDarcy,
                      "nonlinear darcy",
                      "-div(a k(u) grad u) = f on the unit square with u = 0 on the boundary, k(u) = 1 + "
                      "u^2 or exp(beta u), a "
                      "the darcy problem's random two-valued coefficient, f constant; Q1 elements, "
                      "Newton with GMRES + Trilinos ML AMG; the surrogate's prediction starts Newton")
