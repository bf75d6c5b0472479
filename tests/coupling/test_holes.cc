// HolesSolver and random_holes (coupling/holes.h): the holes' constraints, the mesh
// boundary on the circles, the area, a manufactured solution, the point-cloud helpers.
#include <deal.II/base/function.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/grid/grid_tools.h>
#include <deal.II/numerics/vector_tools.h>

#include <mpno/coupling/holes.h>
#include <mpno/coupling/point_cloud.h>

#include <gtest/gtest.h>

#include <cmath>

#include "mpi_environment.h"

namespace
{
  using dealii::Point;

  [[maybe_unused]] const bool mpi_ready = mpno::test::ensure_mpi();

  /** f = 2 pi^2 sin(pi x) sin(pi y), so u = sin(pi x) sin(pi y) without holes. */
  class SineForcing : public dealii::Function<2>
  {
  public:
    double
    value(const Point<2> &p, const unsigned int = 0) const override
    {
      return 2 * M_PI * M_PI * std::sin(M_PI * p[0]) * std::sin(M_PI * p[1]);
    }
  };

  class SineSolution : public dealii::Function<2>
  {
  public:
    double
    value(const Point<2> &p, const unsigned int = 0) const override
    {
      return std::sin(M_PI * p[0]) * std::sin(M_PI * p[1]);
    }
  };
} // namespace

TEST(Holes, RandomHolesKeepTheirGapsAndAreReproducible)
{
  const mpno::HolesParameters parameters;
  for (std::uint64_t seed = 0; seed < 50; ++seed)
    {
      const auto holes = mpno::random_holes(seed, parameters);
      ASSERT_GE(holes.size(), 1u);
      ASSERT_LE(holes.size(), 4u);
      for (std::size_t i = 0; i < holes.size(); ++i)
        {
          const auto &h = holes[i];
          EXPECT_GE(h.radius, 0.05);
          EXPECT_LE(h.radius, 0.15);
          EXPECT_GE(std::min({h.centre[0], 1 - h.centre[0], h.centre[1], 1 - h.centre[1]}), h.radius + 0.05 - 1e-12);
          for (std::size_t j = 0; j < i; ++j)
            EXPECT_GE(h.centre.distance(holes[j].centre), h.radius + holes[j].radius + 0.05 - 1e-12);
        }
      const auto again = mpno::random_holes(seed, parameters);
      ASSERT_EQ(again.size(), holes.size());
      EXPECT_EQ(again.front().centre, holes.front().centre);
    }
  mpno::HolesParameters bad;
  bad.min_radius = 0.3;
  bad.max_radius = 0.3;
  bad.gap        = 0.2;
  EXPECT_THROW(mpno::random_holes(0, bad), dealii::ExceptionBase);
}

TEST(Holes, SignedDistanceAndArea)
{
  const std::vector<mpno::Hole> holes{{Point<2>(0.5, 0.5), 0.1}};
  EXPECT_NEAR(mpno::holes_signed_distance(Point<2>(0.5, 0.5), holes), -0.1, 1e-15);
  EXPECT_NEAR(mpno::holes_signed_distance(Point<2>(0.7, 0.5), holes), 0.1, 1e-15);
  EXPECT_NEAR(mpno::holes_signed_distance(Point<2>(0.02, 0.5), holes), 0.02, 1e-15);
  EXPECT_NEAR(mpno::holes_exact_area(holes), 1 - M_PI * 0.01, 1e-15);
}

TEST(Holes, MeshBoundaryLiesOnTheCirclesAndTheAreaConverges)
{
  mpno::HolesParameters parameters;
  double                previous_error = 1;
  for (const unsigned int cells : {32u, 128u})
    {
      parameters.n_cells_per_side = cells;
      mpno::HolesSolver solver(parameters);
      const auto        holes = mpno::random_holes(3, parameters);
      solver.make_geometry(holes);
      unsigned int hole_faces = 0;
      for (const auto &cell : solver.get_triangulation().active_cell_iterators())
        for (const auto &face : cell->face_iterators())
          if (face->at_boundary() && face->boundary_id() == 1)
            {
              ++hole_faces;
              // Within one cell diagonal of a circle.
              EXPECT_LE(std::abs(mpno::holes_signed_distance(face->center(), holes)), std::sqrt(2.) / cells);
            }
      EXPECT_GT(hole_faces, 0u);
      const double exact = mpno::holes_exact_area(holes);
      const double error = std::abs(dealii::GridTools::volume(solver.get_triangulation()) - exact) / exact;
      EXPECT_LT(error, 0.02) << cells << " cells";
      EXPECT_LT(error, previous_error);
      previous_error = error;
    }
}

TEST(Holes, ManufacturedSolutionWithoutHolesConvergesAtSecondOrder)
{
  mpno::HolesParameters parameters;
  parameters.min_holes = parameters.max_holes = 0;
  std::vector<double> errors;
  for (const unsigned int cells : {16u, 32u})
    {
      parameters.n_cells_per_side = cells;
      mpno::HolesSolver solver(parameters);
      solver.make_geometry(mpno::random_holes(0, parameters));
      ASSERT_TRUE(solver.get_holes().empty());
      solver.assemble(SineForcing());
      dealii::Vector<double> u(solver.get_dof_handler().n_dofs());
      const auto             result = mpno::solve_cg(solver.linear_system(), u, {1e-12, 1000, 3});
      EXPECT_LE(result.final_relative_residual, 1e-12);
      dealii::Vector<float> cellwise(solver.get_triangulation().n_active_cells());
      dealii::VectorTools::integrate_difference(solver.get_mapping(),
                                                solver.get_dof_handler(),
                                                u,
                                                SineSolution(),
                                                cellwise,
                                                dealii::QGauss<2>(3),
                                                dealii::VectorTools::L2_norm);
      errors.push_back(
        dealii::VectorTools::compute_global_error(solver.get_triangulation(), cellwise, dealii::VectorTools::L2_norm));
      // The lumped mass integrates 1: the area.
      EXPECT_NEAR(solver.lumped_mass().l1_norm(), 1., 1e-12);
    }
  EXPECT_LT(errors[0], 5e-3);
  EXPECT_NEAR(std::log2(errors[0] / errors[1]), 2., 0.2);
}

TEST(Holes, SolutionVanishesOnTheHolesAndPointsAreSupportPoints)
{
  mpno::HolesParameters parameters;
  parameters.n_cells_per_side = 32;
  mpno::HolesSolver solver(parameters);
  solver.make_geometry(mpno::random_holes(7, parameters));
  solver.assemble(dealii::Functions::ConstantFunction<2>(1.));
  dealii::Vector<double> u(solver.get_dof_handler().n_dofs());
  mpno::solve_cg(solver.linear_system(), u, {1e-10, 1000, 3});
  const auto points = solver.support_points();
  ASSERT_EQ(points.size(), u.size());
  const auto  &constraints = *solver.linear_system().constraints;
  const auto  &holes       = solver.get_holes();
  double       max_u       = 0;
  unsigned int on_holes    = 0;
  for (std::size_t i = 0; i < points.size(); ++i)
    {
      max_u             = std::max(max_u, u[i]);
      const bool outer  = std::min({points[i][0], 1 - points[i][0], points[i][1], 1 - points[i][1]}) < 1e-12;
      const bool is_set = constraints.is_constrained(i);
      // Every boundary point is held at 0: the outer ones and the staircase's, which lie
      // within a cell diagonal of a circle.
      EXPECT_TRUE(!outer || is_set) << points[i];
      if (is_set)
        {
          EXPECT_EQ(u[i], 0.) << points[i];
          if (!outer)
            {
              ++on_holes;
              EXPECT_LE(std::abs(mpno::holes_signed_distance(points[i], holes)), std::sqrt(2.) / 32 + 1e-12);
            }
        }
    }
  EXPECT_GT(on_holes, 0u);
  EXPECT_GT(max_u, 0.);    // -Laplace u = 1 > 0: u > 0 inside
  EXPECT_LT(max_u, 0.075); // below the square's maximum 0.0737 (holes only lower it)
  EXPECT_NEAR(solver.lumped_mass().l1_norm(), dealii::GridTools::volume(solver.get_triangulation()), 1e-12);
}

TEST(PointCloud, UniformGridPointsAndFeatures)
{
  const auto points = mpno::uniform_grid_points<2>(3, Point<2>(0., 1.), Point<2>(1., 3.));
  ASSERT_EQ(points.size(), 9u);
  EXPECT_EQ(points[1], Point<2>(0., 2.)); // the last axis fastest
  EXPECT_EQ(points[3], Point<2>(0.5, 1.));
  EXPECT_EQ(points[8], Point<2>(1., 3.));
  const auto features = mpno::distance_and_coordinates(points, std::vector<double>(9, -0.25));
  ASSERT_EQ(features.size(), 27u);
  EXPECT_EQ(features[3 * 3 + 0], -0.25f);
  EXPECT_EQ(features[3 * 3 + 1], 0.5f);
  EXPECT_EQ(features[3 * 3 + 2], 1.f);
  EXPECT_THROW(mpno::uniform_grid_points<2>(1, Point<2>(), Point<2>(1., 1.)), std::invalid_argument);
  EXPECT_THROW(mpno::distance_and_coordinates(points, {1.}), std::invalid_argument);
}
