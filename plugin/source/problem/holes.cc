// Problem `holes`: -Laplace u = f on the unit square minus random circular holes, u = 0
// on every boundary; the holes (number, radii, centres) and the forcing f (a seeded
// Gaussian random field) change with the instance seed, so the mesh does too
// (geometry_varies()): the operator sees point clouds (model gino, method.md Sec. 4.3).
// The mesh and the solver are HolesSolver's (coupling/holes.h).
#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/darcy.h>
#include <mpno/coupling/holes.h>
#include <mpno/coupling/random_field.h>
#include <mpno/plugin/problem.h>

#include <memory>
#include <optional>
#include <stdexcept>

namespace mpno
{
  namespace Problem
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    class Holes : public Interface<2>
    {
    public:
      static void
      declare_parameters(ParameterHandler &prm)
      {
        prm.enter_subsection("Holes");
        prm.declare_entry("Cells per side",
                          "64",
                          Patterns::Integer(4, 4096),
                          "Cells per side of the uniform mesh of [0, 1]^2 before the cells whose centre "
                          "lies in a hole are removed (Q1 elements).");
        prm.declare_entry("Minimum holes", "1", Patterns::Integer(0, 64), "Least number of holes per instance.");
        prm.declare_entry("Maximum holes",
                          "4",
                          Patterns::Integer(0, 64),
                          "Largest number of holes per instance (the count is uniform in [Minimum, "
                          "Maximum]; fewer when no more fit).");
        prm.declare_entry("Minimum radius", "0.05", Patterns::Double(0), "Least hole radius (unit square units).");
        prm.declare_entry("Maximum radius",
                          "0.15",
                          Patterns::Double(0),
                          "Largest hole radius (radii uniform in [Minimum, Maximum]).");
        prm.declare_entry("Gap",
                          "0.05",
                          Patterns::Double(0),
                          "Least distance between two holes and between a hole and the outer boundary.");
        prm.declare_entry("Forcing points",
                          "33",
                          Patterns::Integer(2, 4096),
                          "Points per axis of the Gaussian random field f (bilinear between them).");
        prm.declare_entry("Alpha", "2", Patterns::Double(0), "Smoothness alpha of f's covariance; must be > 0.");
        prm.declare_entry("Tau", "3", Patterns::Double(0), "Inverse length scale tau of f's covariance; must be > 0.");
        prm.leave_subsection();
      }

      void
      parse_parameters(ParameterHandler &prm) override
      {
        prm.enter_subsection("Holes");
        parameters.n_cells_per_side = prm.get_integer("Cells per side");
        parameters.min_holes        = prm.get_integer("Minimum holes");
        parameters.max_holes        = prm.get_integer("Maximum holes");
        parameters.min_radius       = prm.get_double("Minimum radius");
        parameters.max_radius       = prm.get_double("Maximum radius");
        parameters.gap              = prm.get_double("Gap");
        forcing_points              = prm.get_integer("Forcing points");
        alpha                       = prm.get_double("Alpha");
        tau                         = prm.get_double("Tau");
        prm.leave_subsection();
        const auto fail = [](const std::string &entry, const std::string &why) {
          throw std::invalid_argument("entry 'Problem/Holes/" + entry + "' " + why);
        };
        if (parameters.min_holes > parameters.max_holes)
          fail("Minimum holes",
               "= " + std::to_string(parameters.min_holes) +
                 " exceeds 'Maximum holes' = " + std::to_string(parameters.max_holes));
        if (!(parameters.min_radius > 0) || parameters.min_radius > parameters.max_radius)
          fail("Minimum radius", "must be > 0 and <= 'Maximum radius'");
        if (parameters.min_radius + parameters.gap >= 0.5)
          fail("Minimum radius", "+ 'Gap' must be < 0.5, or no hole fits in the unit square");
        if (!(alpha > 0))
          fail("Alpha", "must be > 0");
        if (!(tau > 0))
          fail("Tau", "must be > 0");
      }

      void
      setup() override
      {
        solver.emplace(parameters);
        field.emplace(forcing_points, alpha, tau);
      }

      void
      sample(const std::uint64_t seed) override
      {
        solver->make_geometry(random_holes(seed, parameters));
        forcing = std::make_unique<GridFunction>(forcing_points,
                                                 forcing_points,
                                                 field->sample(seed),
                                                 GridFunction::Interpolation::bilinear);
      }

      bool
      geometry_varies() const override
      {
        return true;
      }

      std::vector<std::string>
      input_names() const override
      {
        return {"forcing"};
      }

      const dealii::Function<2> &
      input_field(const unsigned int channel) const override
      {
        if (!forcing)
          throw std::logic_error("Problem holes: input_field() before sample()");
        if (channel != 0)
          throw std::out_of_range("Problem holes: no input channel " + std::to_string(channel));
        return *forcing;
      }

      void
      assemble() override
      {
        if (!forcing)
          throw std::logic_error("Problem holes: assemble() before sample()");
        solver->assemble(*forcing);
      }

      LinearSystem
      linear_system() const override
      {
        return solver->linear_system();
      }

      const dealii::DoFHandler<2> &
      get_dof_handler() const override
      {
        return solver->get_dof_handler();
      }

      const dealii::Mapping<2> &
      get_mapping() const override
      {
        return solver->get_mapping();
      }

      std::pair<dealii::Point<2>, dealii::Point<2>>
      bounding_box() const override
      {
        return {dealii::Point<2>(0., 0.), dealii::Point<2>(1., 1.)};
      }

      std::vector<dealii::Point<2>>
      support_points() const override
      {
        return solver->support_points();
      }

      dealii::Vector<double>
      basis_integrals() const override
      {
        return solver->lumped_mass();
      }

      std::vector<double>
      signed_distance(const std::vector<dealii::Point<2>> &points) const override
      {
        std::vector<double> distances(points.size());
        for (std::size_t i = 0; i < points.size(); ++i)
          distances[i] = holes_signed_distance(points[i], solver->get_holes());
        return distances;
      }

      std::vector<std::pair<std::string, std::string>>
      attributes() const override
      {
        return {{"equation", "-Laplace u = f on [0, 1]^2 minus random circular holes, u = 0 on the boundary"},
                {"cells per side", std::to_string(parameters.n_cells_per_side)},
                {"holes", std::to_string(parameters.min_holes) + " to " + std::to_string(parameters.max_holes)},
                {"radius", std::to_string(parameters.min_radius) + " to " + std::to_string(parameters.max_radius)},
                {"gap", std::to_string(parameters.gap)},
                {"forcing points", std::to_string(forcing_points)},
                {"alpha", std::to_string(alpha)},
                {"tau", std::to_string(tau)}};
      }

    private:
      HolesParameters                       parameters;
      unsigned int                          forcing_points = 33;
      double                                alpha = 2., tau = 3.;
      std::optional<HolesSolver>            solver;
      std::optional<GaussianRandomField<2>> field;
      std::unique_ptr<GridFunction>         forcing;
    };
  } // namespace Problem
} // namespace mpno

MPNO_REGISTER_PROBLEM(2,
                      mpno::Problem::Holes,
                      "holes",
                      "-Laplace u = f on the unit square minus 1-4 random circular holes (a new mesh per "
                      "instance: the uniform mesh without the hole cells), u = 0 on the boundary, f a seeded "
                      "Gaussian random field; Q1, CG + Trilinos ML AMG; the data are point clouds (model gino)")
