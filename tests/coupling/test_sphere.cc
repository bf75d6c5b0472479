// The unit sphere of issue 6: real spherical harmonics against closed forms, their
// orthonormality under the mesh's quadrature, the seeded random field's variance, and the
// diffusion-reaction solver's convergence to a manufactured solution.
#include <deal.II/base/function.h>

#include <mpno/coupling/lat_lon_grid.h>
#include <mpno/coupling/sphere.h>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <utility>

#include "mpi_environment.h"

namespace
{
  const bool mpi_ready = mpno::test::ensure_mpi();

  /** Y_l^m as a function, for the manufactured solution. */
  std::vector<double>
  unit_coefficients(const unsigned int lmax, const unsigned int l, const int m)
  {
    std::vector<double> c((lmax + 1) * (lmax + 1), 0.);
    c[mpno::spherical_harmonic_index(l, m)] = 1.;
    return c;
  }
} // namespace

TEST(SphericalHarmonics, MatchClosedForms)
{
  std::mt19937                           generator(1);
  std::uniform_real_distribution<double> uniform(-1., 1.);
  const double                           pi = M_PI;
  for (int trial = 0; trial < 20; ++trial)
    {
      const double z = uniform(generator), phi = M_PI * uniform(generator), s = std::sqrt(1. - z * z);
      const double x = s * std::cos(phi), y = s * std::sin(phi);
      const auto   Y = mpno::real_spherical_harmonics(3, z, phi);
      ASSERT_EQ(Y.size(), 16u);
      using mpno::spherical_harmonic_index;
      EXPECT_NEAR(Y[spherical_harmonic_index(0, 0)], std::sqrt(1. / (4. * pi)), 1e-14);
      EXPECT_NEAR(Y[spherical_harmonic_index(1, 0)], std::sqrt(3. / (4. * pi)) * z, 1e-14);
      EXPECT_NEAR(Y[spherical_harmonic_index(1, 1)], std::sqrt(3. / (4. * pi)) * x, 1e-14);
      EXPECT_NEAR(Y[spherical_harmonic_index(1, -1)], std::sqrt(3. / (4. * pi)) * y, 1e-14);
      EXPECT_NEAR(Y[spherical_harmonic_index(2, 0)], std::sqrt(5. / (16. * pi)) * (3. * z * z - 1.), 1e-14);
      EXPECT_NEAR(Y[spherical_harmonic_index(2, 1)], std::sqrt(15. / (4. * pi)) * x * z, 1e-14);
      EXPECT_NEAR(Y[spherical_harmonic_index(2, -2)], std::sqrt(15. / (4. * pi)) * x * y, 1e-14);
      EXPECT_NEAR(Y[spherical_harmonic_index(2, 2)], std::sqrt(15. / (16. * pi)) * (x * x - y * y), 1e-14);
      EXPECT_NEAR(Y[spherical_harmonic_index(3, 0)], std::sqrt(7. / (16. * pi)) * (5. * z * z * z - 3. * z), 1e-14);
    }
}

TEST(SphereSolver, ProjectionOfAHarmonicIsAUnitCoefficient)
{
  // The FE interpolant of Y_lm projected back onto degrees <= 6 by the mesh's quadrature:
  // orthonormality under the quadrature up to the FE and geometry errors.
  mpno::SphereSolver solver({4, 2});
  for (const auto &[l, m] : {std::pair<unsigned int, int>{0, 0}, {2, -1}, {4, 3}, {6, -6}})
    {
      dealii::Vector<double> u;
      solver.interpolate(mpno::SphericalHarmonicExpansion(unit_coefficients(6, l, m)), u);
      const std::vector<double> c = solver.spherical_harmonic_coefficients(u, 6);
      for (std::size_t i = 0; i < c.size(); ++i)
        EXPECT_NEAR(c[i], i == mpno::spherical_harmonic_index(l, m) ? 1. : 0., 2e-3)
          << "l " << l << " m " << m << " slot " << i;
    }
}

TEST(SphereSolver, ManufacturedSolutionConvergesAtSecondOrder)
{
  // -div_S grad_S Y_32 + Y_32 = (3 * 4 + 1) Y_32 (a = 1): Q1 errors fall by about 4 per
  // refinement.
  const mpno::SphericalHarmonicExpansion exact(unit_coefficients(3, 3, 2));
  const mpno::SphericalHarmonicExpansion forcing([] {
    auto c                                  = unit_coefficients(3, 3, 2);
    c[mpno::spherical_harmonic_index(3, 2)] = 13.;
    return c;
  }());
  std::vector<double>                    errors;
  for (const unsigned int r : {3u, 4u, 5u})
    {
      mpno::SphereSolver solver({r, 1});
      solver.assemble(dealii::Functions::ConstantFunction<3>(1.), forcing);
      const mpno::LinearSystem system = solver.linear_system();
      dealii::Vector<double>   u(system.rhs->size());
      const auto               result = mpno::solve_cg(system, u, {1e-10, 1000, 3});
      EXPECT_LE(result.iterations, 30u) << "AMG-preconditioned CG at refinement " << r;
      errors.push_back(solver.l2_error(u, exact));
    }
  for (std::size_t k = 1; k < errors.size(); ++k)
    {
      const double rate = std::log2(errors[k - 1] / errors[k]);
      EXPECT_GT(rate, 1.8) << errors[k - 1] << " -> " << errors[k];
      EXPECT_LT(rate, 2.3) << errors[k - 1] << " -> " << errors[k];
    }
  EXPECT_LT(errors.back(), 5e-3);
}

TEST(SphereRandomField, SeededWithUnitPointwiseVariance)
{
  EXPECT_EQ(mpno::sphere_random_field_coefficients(12, 2., 3., 5),
            mpno::sphere_random_field_coefficients(12, 2., 3., 5));
  EXPECT_NE(mpno::sphere_random_field_coefficients(12, 2., 3., 5),
            mpno::sphere_random_field_coefficients(12, 2., 3., 6));
  // The mean square over the sphere is sum c^2 / (4 pi); its mean over seeds is the
  // pointwise variance, 1 (standard error about 0.03 with 400 seeds).
  double mean = 0.;
  for (std::uint64_t seed = 0; seed < 400; ++seed)
    {
      const std::vector<double> c = mpno::sphere_random_field_coefficients(12, 2., 3., seed);
      EXPECT_EQ(c[0], 0.);
      double sum = 0.;
      for (const double v : c)
        sum += v * v;
      mean += sum / (4. * M_PI) / 400.;
    }
  EXPECT_NEAR(mean, 1., 0.12);
  EXPECT_THROW(mpno::sphere_random_field_coefficients(0, 2., 3., 1), dealii::ExceptionBase);
}

TEST(LatLonGrid, AnalysisRecoversBandLimitedCoefficientsOnBothGrids)
{
  for (const std::string grid : {"equiangular", "legendre-gauss"})
    {
      const mpno::LatLonGrid lat_lon(grid, 24, 48);
      const unsigned int     lmax = lat_lon.max_exact_degree();
      ASSERT_GE(lmax, 8u) << grid;
      const std::vector<double> c = mpno::sphere_random_field_coefficients(8, 1., 1., 3);
      std::vector<float>        values(lat_lon.n_points());
      lat_lon.synthesis(c, dealii::make_array_view(values));
      const std::vector<double> back = lat_lon.analysis(dealii::make_array_view(std::as_const(values)), 8);
      for (std::size_t i = 0; i < c.size(); ++i)
        EXPECT_NEAR(back[i], c[i], 2e-6) << grid << " slot " << i; // float32 samples
    }
  EXPECT_THROW(mpno::LatLonGrid("mercator", 8, 16), std::invalid_argument);
}

TEST(LatLonGrid, FeToGridAndBackThroughHarmonics)
{
  // A degree-6 field: FE interpolant (Q2) -> projection onto harmonics -> grid matches the
  // field at the grid points; grid -> analysis -> FE interpolant matches the FE field.
  const mpno::SphericalHarmonicExpansion field(mpno::sphere_random_field_coefficients(6, 1., 1., 8));
  mpno::SphereSolver                     solver({4, 2});
  dealii::Vector<double>                 u;
  solver.interpolate(field, u);
  const mpno::LatLonGrid lat_lon("equiangular", 33, 64);
  std::vector<float>     grid(lat_lon.n_points());
  lat_lon.synthesis(solver.spherical_harmonic_coefficients(u, 6), dealii::make_array_view(grid));
  double max_error = 0., max_value = 0.;
  for (std::size_t i = 0; i < grid.size(); ++i)
    {
      max_error = std::max(max_error, std::abs(grid[i] - field.value(lat_lon.point(i))));
      max_value = std::max(max_value, std::abs(field.value(lat_lon.point(i))));
    }
  EXPECT_LT(max_error, 1e-3 * max_value);

  dealii::Vector<double> back;
  solver.interpolate(mpno::SphericalHarmonicExpansion(
                       lat_lon.analysis(dealii::make_array_view(std::as_const(grid)), 6)),
                     back);
  back -= u;
  EXPECT_LT(back.linfty_norm(), 1e-3 * max_value);
}
