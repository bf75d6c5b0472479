// SphereTransfer (issue 6): the spectral transfer between a sphere mesh and
// latitude-longitude grids against band-limited fields, its transpose against the inner
// products, and the chart of FunctionOnLatLon against LatLonGrid's points.
#include <deal.II/base/function.h>

#include <mpno/coupling/lat_lon_grid.h>
#include <mpno/coupling/sphere.h>
#include <mpno/coupling/sphere_transfer.h>

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "mpi_environment.h"

namespace
{
  const bool mpi_ready = mpno::test::ensure_mpi();

  /** A seeded band-limited field of degree @p lmax with O(1) values. */
  mpno::SphericalHarmonicExpansion
  field(const unsigned int lmax, const unsigned int seed)
  {
    return mpno::SphericalHarmonicExpansion(mpno::sphere_random_field_coefficients(lmax, 1., 1., seed));
  }
} // namespace

TEST(SphereTransfer, GridPointsAreTheLatLonGridsPoints)
{
  const mpno::SphereSolver   solver({2, 1});
  const mpno::LatLonGrid     grid("legendre-gauss", 8, 16);
  const mpno::SphereTransfer transfer(solver, grid, 6);
  ASSERT_EQ(transfer.grid_shape()[0], 8u);
  ASSERT_EQ(transfer.grid_shape()[1], 16u);
  for (std::size_t i = 0; i < grid.n_points(); ++i)
    EXPECT_LT(mpno::FunctionOnLatLon::unit_vector(transfer.grid_point(i)).distance(grid.point(i)), 1e-14) << i;
}

TEST(SphereTransfer, GridToFeIsExactForBandLimitedFields)
{
  // A field of degree 8 on the equiangular 33 x 64 grid (exact to degree 16) reaches the
  // support points exactly: the FE interpolant of the field itself.
  const mpno::SphereSolver               solver({3, 2});
  const mpno::LatLonGrid                 grid("equiangular", 33, 64);
  const mpno::SphereTransfer             transfer(solver, grid, 32);
  const mpno::SphericalHarmonicExpansion f = field(8, 3);
  EXPECT_EQ(transfer.grid_to_fe_degree(), 16u);
  std::vector<double> values(transfer.n_grid_points());
  transfer.function_to_grid(mpno::FunctionOnLatLon(f), dealii::make_array_view(values));
  dealii::Vector<double> u, expected;
  transfer.grid_to_fe(dealii::ArrayView<const double>(values), u);
  solver.interpolate(f, expected);
  ASSERT_EQ(u.size(), expected.size());
  dealii::Vector<double> difference = u;
  difference -= expected;
  EXPECT_LT(difference.linfty_norm(), 1e-10 * expected.linfty_norm());
}

TEST(SphereTransfer, FeToGridConvergesToTheField)
{
  // The Q2 interpolant of a degree-6 field, projected onto degree <= 32 and synthesised:
  // the field at the grid points up to the FE error, which falls with refinement (third
  // order: 2.8e-2 and 3.3e-3 measured).
  const mpno::SphericalHarmonicExpansion f = field(6, 5);
  const mpno::LatLonGrid                 grid("legendre-gauss", 24, 48);
  std::vector<double>                    expected(grid.n_points());
  for (std::size_t i = 0; i < grid.n_points(); ++i)
    expected[i] = f.value(grid.point(i));
  double previous = 1.;
  for (const unsigned int refinements : {2u, 3u})
    {
      const mpno::SphereSolver   solver({refinements, 2});
      const mpno::SphereTransfer transfer(solver, grid, 32);
      dealii::Vector<double>     u;
      solver.interpolate(f, u);
      std::vector<double> values(grid.n_points());
      transfer.fe_to_grid(u, dealii::make_array_view(values));
      double error = 0., norm = 0.;
      for (std::size_t i = 0; i < values.size(); ++i)
        {
          error = std::max(error, std::abs(values[i] - expected[i]));
          norm  = std::max(norm, std::abs(expected[i]));
        }
      const double relative = error / norm;
      EXPECT_LT(relative, refinements == 2 ? 4e-2 : 5e-3) << refinements << " refinements";
      EXPECT_LT(relative, previous / 4.) << refinements << " refinements";
      previous = relative;
    }
}

TEST(SphereTransfer, TransposeIsTheAdjointOfGridToFe)
{
  const mpno::SphereSolver         solver({2, 1});
  const mpno::LatLonGrid           grid("equiangular", 17, 32);
  const mpno::SphereTransfer       transfer(solver, grid, 12);
  std::mt19937                     generator(7);
  std::normal_distribution<double> normal;
  std::vector<double>              g(transfer.n_grid_points()), transposed(transfer.n_grid_points());
  dealii::Vector<double>           v(transfer.n_fe_dofs()), u;
  for (double &x : g)
    x = normal(generator);
  for (double &x : v)
    x = normal(generator);
  transfer.grid_to_fe(dealii::ArrayView<const double>(g), u);
  transfer.grid_to_fe_transpose(v, dealii::make_array_view(transposed));
  double right = 0.;
  for (std::size_t i = 0; i < g.size(); ++i)
    right += g[i] * transposed[i];
  EXPECT_NEAR(u * v, right, 1e-12 * std::abs(right) + 1e-12);
}

TEST(SphereTransfer, BasisIntegralsSumToTheArea)
{
  const mpno::SphereSolver     solver({3, 1});
  const mpno::SphereTransfer   transfer(solver, mpno::LatLonGrid("equiangular", 9, 16), 4);
  const dealii::Vector<double> integrals = transfer.basis_integrals();
  double                       area      = 0.;
  for (const double w : integrals)
    {
      EXPECT_GT(w, 0.);
      area += w;
    }
  EXPECT_NEAR(area, 4. * M_PI, 1e-3);
}

TEST(SphereTransfer, WrongSizesNameBoth)
{
  const mpno::SphereSolver   solver({1, 1});
  const mpno::SphereTransfer transfer(solver, mpno::LatLonGrid("equiangular", 5, 8), 2);
  std::vector<double>        values(3);
  try
    {
      transfer.fe_to_grid(dealii::Vector<double>(transfer.n_fe_dofs()), dealii::make_array_view(values));
      FAIL() << "no exception";
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("grid array of 40, got"), std::string::npos) << error.what();
    }
}
