// Problem `sphere`: -div_S(a grad_S u) + u = f on the unit sphere S with a random
// coefficient a = exp(s g_a) and a random forcing f = g_f (g seeded Gaussian random fields
// in spherical harmonics), solved by SphereSolver (Q_p on the cube sphere mesh, CG +
// Trilinos ML AMG). The operator's grid is a latitude-longitude grid (SFNO, issue 6): the
// problem provides its own field transfer (SphereTransfer), L2 norm and output.
#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/lat_lon_grid.h>
#include <mpno/coupling/sphere.h>
#include <mpno/coupling/sphere_transfer.h>
#include <mpno/plugin/problem.h>

#include "../solution_output.h"

#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>

namespace mpno
{
  namespace Problem
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    class Sphere : public Interface<2>
    {
    public:
      static void
      declare_parameters(ParameterHandler &prm)
      {
        prm.enter_subsection("Sphere");
        prm.declare_entry("Refinements",
                          "4",
                          Patterns::Integer(1, 9),
                          "Global refinements of the 6-cell cube mesh of the unit sphere: 6 * 4^r cells.");
        prm.declare_entry("FE degree", "1", Patterns::Integer(1, 4), "Degree p of the FE_Q<2, 3>(p) elements.");
        prm.declare_entry("Grid",
                          "equiangular",
                          Patterns::Selection("equiangular|legendre-gauss"),
                          "The latitude-longitude grid of the operator (as Surrogate/SFNO/grid): n grid "
                          "points (the entries Training, Test and Inference grid points) mean n "
                          "latitudes and 2 (n - 1) longitudes on the equiangular grid (poles included), "
                          "n latitudes and 2 n longitudes on the Gauss-Legendre grid.");
        prm.declare_entry("Maximum degree",
                          "32",
                          Patterns::Integer(1, 256),
                          "Spherical-harmonic degree of the transfer between the mesh and the grids: FE "
                          "fields are projected onto degrees <= this and synthesised on the grid; grid "
                          "fields are analysed up to this degree (at most the grid's exact degree) and "
                          "evaluated at the support points.");
        prm.declare_entry("Field degree",
                          "12",
                          Patterns::Integer(1, 128),
                          "Degree of the random fields g_a and g_f (spherical harmonics 1..this).");
        prm.declare_entry("Alpha",
                          "2.5",
                          Patterns::Double(0),
                          "Smoothness alpha of the fields' covariance (-Laplace-Beltrami + tau^2)^(-alpha); "
                          "must be > 0.");
        prm.declare_entry("Tau", "3", Patterns::Double(0), "Inverse length scale tau of the covariance (unit sphere).");
        prm.declare_entry("Coefficient scale",
                          "0.5",
                          Patterns::Double(0),
                          "s in a = exp(s g_a), g_a of unit pointwise variance.");
        prm.leave_subsection();
      }

      void
      parse_parameters(ParameterHandler &prm) override
      {
        prm.enter_subsection("Sphere");
        parameters.refinements = prm.get_integer("Refinements");
        parameters.fe_degree   = prm.get_integer("FE degree");
        grid                   = prm.get("Grid");
        max_degree             = prm.get_integer("Maximum degree");
        field_degree           = prm.get_integer("Field degree");
        alpha                  = prm.get_double("Alpha");
        tau                    = prm.get_double("Tau");
        scale                  = prm.get_double("Coefficient scale");
        prm.leave_subsection();
        if (!(alpha > 0))
          throw std::invalid_argument("entry 'Problem/Sphere/Alpha' must be > 0, got " + std::to_string(alpha));
      }

      void
      setup() override
      {
        solver.emplace(parameters);
        // As for darcy: B_0 the AMG of a = 1, and since a >= a_min at the quadrature
        // points, A >= min(a_min, 1) A_0 (the reaction term has coefficient 1), so
        // e^T A e <= r^T B_0 r / (min(a_min, 1) lambda_min(B_0 A_0)) (strategy `replace`).
        reference.emplace(parameters);
        reference->assemble(dealii::Functions::ConstantFunction<3>(1.), dealii::Functions::ConstantFunction<3>(1.));
        reference_system   = reference->linear_system();
        reference_constant = reference_bound_constant(reference_system);
      }

      void
      sample(const std::uint64_t seed) override
      {
        // Two streams per seed: the coefficient's and the forcing's.
        charts.clear();
        coefficient =
          std::make_unique<ExponentialOfExpansion>(sphere_random_field_coefficients(field_degree, alpha, tau, 2 * seed),
                                                   scale);
        forcing = std::make_unique<SphericalHarmonicExpansion>(
          sphere_random_field_coefficients(field_degree, alpha, tau, 2 * seed + 1));
        charts.emplace_back(*coefficient);
        charts.emplace_back(*forcing);
      }

      std::vector<std::string>
      input_names() const override
      {
        return {"coefficient", "forcing"};
      }

      /** The input as a function of (colatitude, longitude), the chart of SphereTransfer. */
      const dealii::Function<2> &
      input_field(const unsigned int channel) const override
      {
        if (charts.empty())
          throw std::logic_error("Problem sphere: input_field() before sample()");
        if (channel >= charts.size())
          throw std::out_of_range("Problem sphere: no input channel " + std::to_string(channel));
        return charts[channel];
      }

      void
      assemble() override
      {
        if (!coefficient)
          throw std::logic_error("Problem sphere: assemble() before sample()");
        solver->assemble(*coefficient, *forcing); // the AMG is built on first use
      }

      LinearSystem
      linear_system() const override
      {
        LinearSystem system             = solver->linear_system();
        system.reference_preconditioner = &reference_system.get_preconditioner();
        system.reference_bound          = reference_constant / std::min(solver->last_minimum_coefficient, 1.);
        return system;
      }

      std::unique_ptr<FieldTransfer<2>>
      make_field_transfer(const unsigned int grid_points) const override
      {
        const unsigned int nlon = grid == "equiangular" ? 2 * (grid_points - 1) : 2 * grid_points;
        return std::make_unique<SphereTransfer>(*solver, LatLonGrid(grid, grid_points, nlon), max_degree);
      }

      dealii::types::global_dof_index
      n_dofs() const override
      {
        return solver->get_dof_handler().n_dofs();
      }

      double
      l2_norm(const dealii::Vector<double> &u) const override
      {
        return solver->l2_error(u, dealii::Functions::ZeroFunction<3>());
      }

      std::string
      solution_vtu(const dealii::Vector<double> &solution, const dealii::Vector<double> &prediction) const override
      {
        const std::array<const dealii::Function<3> *, 2> fields{coefficient.get(), forcing.get()};
        return plugin::solution_vtu_document<2, 3>(
          solver->get_dof_handler(),
          input_names(),
          [&](const unsigned int c, const dealii::Point<3> &p) { return fields[c]->value(p); },
          output_name(),
          solution,
          prediction);
      }

      std::vector<std::pair<std::string, std::string>>
      attributes() const override
      {
        return {{"equation", "-div_S(a grad_S u) + u = f on the unit sphere, a = exp(s g_a), f = g_f"},
                {"refinements", std::to_string(parameters.refinements)},
                {"fe degree", std::to_string(parameters.fe_degree)},
                {"grid", grid},
                {"maximum degree", std::to_string(max_degree)},
                {"field degree", std::to_string(field_degree)},
                {"alpha", std::to_string(alpha)},
                {"tau", std::to_string(tau)},
                {"coefficient scale", std::to_string(scale)}};
      }

    private:
      SphereParameters                            parameters;
      std::string                                 grid         = "equiangular";
      unsigned int                                max_degree   = 32;
      unsigned int                                field_degree = 12;
      double                                      alpha = 2.5, tau = 3., scale = 0.5;
      std::optional<SphereSolver>                 solver;
      std::optional<SphereSolver>                 reference;
      LinearSystem                                reference_system;
      double                                      reference_constant = 0;
      std::unique_ptr<ExponentialOfExpansion>     coefficient;
      std::unique_ptr<SphericalHarmonicExpansion> forcing;
      std::vector<FunctionOnLatLon>               charts;
    };
  } // namespace Problem
} // namespace mpno

MPNO_REGISTER_PROBLEM(2,
                      mpno::Problem::Sphere,
                      "sphere",
                      "-div_S(a grad_S u) + u = f on the unit sphere (Triangulation<2, 3>), a = exp(s g_a) "
                      "and f = g_f with seeded random fields in spherical harmonics; Q_p elements, CG + "
                      "Trilinos ML AMG; the operator's grid is a latitude-longitude grid (model sfno)")
