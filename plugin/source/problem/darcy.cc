// Problem `darcy`: -div(a grad u) = f on the unit square, u = 0 on the boundary, with the
// FNO paper's random two-valued coefficient (Li et al. 2021, Sec. 5.2), solved by
// DarcySolver (Q_p, CG + Trilinos ML AMG).
#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/darcy.h>
#include <mpno/coupling/random_field.h>
#include <mpno/plugin/problem.h>

#include "unit_square.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>

namespace mpno
{
  namespace Problem
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    class Darcy : public UnitSquareProblem
    {
    public:
      static void
      declare_parameters(ParameterHandler &prm)
      {
        prm.enter_subsection("Darcy");
        prm.declare_entry("Cells per side",
                          "128",
                          Patterns::Integer(2, 4096),
                          "Cells per side of the uniform mesh of the unit square (the finest mesh: "
                          "data are sampled from it onto coarser grids).");
        prm.declare_entry("FE degree", "1", Patterns::Integer(1, 4), "Degree p of the FE_Q(p) elements.");
        prm.declare_entry("Coefficient grid points",
                          "32",
                          Patterns::Integer(2, 4096),
                          "Points per side of the grid x_i = i / (n - 1) on which the Gaussian "
                          "random field is sampled and thresholded; the coefficient a is constant "
                          "around each point (nearest grid point). Equal to the training grid, the "
                          "operator's input on it is the coefficient itself.");
        prm.declare_entry("Alpha",
                          "2",
                          Patterns::Double(0),
                          "Smoothness alpha of the random field's covariance (-Laplacian + "
                          "tau^2)^(-alpha); must be > 0.");
        prm.declare_entry("Tau",
                          "3",
                          Patterns::Double(0),
                          "Inverse length scale tau of the covariance (1 / unit length); must be > 0.");
        prm.declare_entry("Coefficient high",
                          "12",
                          Patterns::Double(0),
                          "Value of a where the random field is >= 0; must be > 0.");
        prm.declare_entry("Coefficient low",
                          "3",
                          Patterns::Double(0),
                          "Value of a where the random field is < 0; must be > 0.");
        prm.declare_entry("Forcing",
                          "constant",
                          Patterns::Selection("constant|random"),
                          "The right-hand side f: constant (Forcing value) or random (a Gaussian "
                          "random field on the coefficient grid, bilinear, with the same alpha and "
                          "tau plus Forcing value; then a second input channel `forcing`).");
        prm.declare_entry("Forcing value", "1", Patterns::Double(), "The constant f, or the mean of a random f.");
        prm.leave_subsection();
      }

      void
      parse_parameters(ParameterHandler &prm) override
      {
        prm.enter_subsection("Darcy");
        parameters.n_cells_per_side = prm.get_integer("Cells per side");
        parameters.fe_degree        = prm.get_integer("FE degree");
        n_coefficient_points        = prm.get_integer("Coefficient grid points");
        alpha                       = prm.get_double("Alpha");
        tau                         = prm.get_double("Tau");
        high                        = prm.get_double("Coefficient high");
        low                         = prm.get_double("Coefficient low");
        random_forcing              = prm.get("Forcing") == "random";
        forcing_value               = prm.get_double("Forcing value");
        prm.leave_subsection();
        const auto positive = [](double v, const char *entry) {
          if (!(v > 0))
            throw std::invalid_argument(std::string("entry 'Problem/Darcy/") + entry + "' must be > 0, got " +
                                        std::to_string(v));
        };
        positive(alpha, "Alpha");
        positive(tau, "Tau");
        positive(high, "Coefficient high");
        positive(low, "Coefficient low");
      }

      void
      setup() override
      {
        solver.emplace(parameters);
        field.emplace(n_coefficient_points, alpha, tau);
        // The reference operator A_0 (a = 1) and its AMG B_0, built once: since
        // a >= a_min pointwise, A >= a_min A_0 for every instance, and
        // e^T A e <= r^T B_0 r / (a_min lambda_min(B_0 A_0)) (strategy `replace`).
        reference.emplace(parameters);
        reference->assemble_system(dealii::Functions::ConstantFunction<2>(1.),
                                   dealii::Functions::ConstantFunction<2>(1.));
        reference->setup_amg();
        reference_bound = reference_bound_constant(reference->linear_system()) / std::min(low, high);
      }

      void
      sample(const std::uint64_t seed) override
      {
        const std::vector<double> values = field->sample(seed);
        coefficient                      = std::make_unique<GridFunction>(n_coefficient_points,
                                                     n_coefficient_points,
                                                     threshold(values, high, low),
                                                     GridFunction::Interpolation::piecewise_constant);
        if (random_forcing)
          {
            // An independent stream: the seed's bits reversed.
            std::uint64_t reversed = 0;
            for (unsigned int b = 0; b < 64; ++b)
              reversed |= ((seed >> b) & 1u) << (63 - b);
            std::vector<double> f = field->sample(reversed ^ 0x9e3779b97f4a7c15ull);
            for (double &v : f)
              v += forcing_value;
            forcing = std::make_unique<GridFunction>(n_coefficient_points,
                                                     n_coefficient_points,
                                                     std::move(f),
                                                     GridFunction::Interpolation::bilinear);
          }
        else
          forcing = std::make_unique<dealii::Functions::ConstantFunction<2>>(forcing_value);
      }

      std::vector<std::string>
      input_names() const override
      {
        if (random_forcing)
          return {"coefficient", "forcing"};
        return {"coefficient"};
      }

      const dealii::Function<2> &
      input_field(const unsigned int channel) const override
      {
        if (!coefficient)
          throw std::logic_error("Problem darcy: input_field() before sample()");
        if (channel == 0)
          return *coefficient;
        if (channel == 1 && random_forcing)
          return *forcing;
        throw std::out_of_range("Problem darcy: no input channel " + std::to_string(channel));
      }

      std::string
      output_name() const override
      {
        return "pressure";
      }

      void
      assemble() override
      {
        if (!coefficient)
          throw std::logic_error("Problem darcy: assemble() before sample()");
        solver->assemble_system(*coefficient, *forcing); // the AMG is built on first use
      }

      LinearSystem
      linear_system() const override
      {
        LinearSystem system             = solver->linear_system();
        system.reference_preconditioner = &reference->get_amg();
        system.reference_bound          = reference_bound;
        return system;
      }

      const dealii::DoFHandler<2> &
      get_dof_handler() const override
      {
        return solver->get_dof_handler();
      }


      std::vector<std::pair<std::string, std::string>>
      attributes() const override
      {
        return {{"equation", "-div(a grad u) = f on (0,1)^2, u = 0 on the boundary"},
                {"cells per side", std::to_string(parameters.n_cells_per_side)},
                {"fe degree", std::to_string(parameters.fe_degree)},
                {"coefficient grid points", std::to_string(n_coefficient_points)},
                {"alpha", std::to_string(alpha)},
                {"tau", std::to_string(tau)},
                {"coefficient high", std::to_string(high)},
                {"coefficient low", std::to_string(low)},
                {"forcing", random_forcing ? "random" : "constant"},
                {"forcing value", std::to_string(forcing_value)}};
      }

    private:
      DarcyParameters                       parameters;
      unsigned int                          n_coefficient_points = 32;
      double                                alpha = 2., tau = 3., high = 12., low = 3.;
      bool                                  random_forcing = false;
      double                                forcing_value  = 1.;
      std::optional<DarcySolver>            solver;
      std::optional<DarcySolver>            reference;
      double                                reference_bound = 0;
      std::optional<GaussianRandomField<2>> field;
      std::unique_ptr<dealii::Function<2>>  coefficient;
      std::unique_ptr<dealii::Function<2>>  forcing;
    };
  } // namespace Problem
} // namespace mpno

MPNO_REGISTER_PROBLEM(2,
                      mpno::Problem::Darcy,
                      "darcy",
                      "-div(a grad u) = f on the unit square with u = 0 on the boundary, a the FNO "
                      "paper's two-valued random coefficient (thresholded Gaussian random field), f "
                      "constant or random; Q_p elements, CG + Trilinos ML AMG")
