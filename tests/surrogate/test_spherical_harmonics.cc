// The spherical harmonic transform: quadrature exactness, orthonormal Legendre functions,
// closed-form Y_l^m against the transform, round trips at lmax = 64 on both grids, the
// reduced-type quadrature (its error O(u max|x|) at every resolution) and the table cache.
#include <mpno/surrogate/spherical_harmonics.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <functional>
#include <iostream>

using namespace mpno;

namespace
{
  const SphereGrid both_grids[] = {SphereGrid::equiangular, SphereGrid::legendre_gauss};

  /** Y_l^m(theta, 0) / e^{i m phi} written out for l <= 3, m >= 0 (orthonormal, with the
   *  Condon-Shortley phase; e.g. Jackson, Classical Electrodynamics, Sec. 3.6). */
  double
  closed_form_legendre(const int l, const int m, const double theta)
  {
    const double c = std::cos(theta), s = std::sin(theta), pi = M_PI;
    switch (10 * l + m)
      {
        case 0:
          return 0.5 / std::sqrt(pi);
        case 10:
          return std::sqrt(3. / (4. * pi)) * c;
        case 11:
          return -std::sqrt(3. / (8. * pi)) * s;
        case 20:
          return std::sqrt(5. / (16. * pi)) * (3. * c * c - 1.);
        case 21:
          return -std::sqrt(15. / (8. * pi)) * s * c;
        case 22:
          return 0.25 * std::sqrt(15. / (2. * pi)) * s * s;
        case 30:
          return 0.25 * std::sqrt(7. / pi) * (5. * c * c * c - 3. * c);
        case 31:
          return -0.125 * std::sqrt(21. / pi) * s * (5. * c * c - 1.);
        case 32:
          return 0.25 * std::sqrt(105. / (2. * pi)) * s * s * c;
        case 33:
          return -0.125 * std::sqrt(35. / pi) * s * s * s;
      }
    throw std::logic_error("no closed form");
  }

  /** f(theta_k, phi_j) on the grid, float64 [nlat, nlon]. */
  torch::Tensor
  sample(const SphereGrid grid, const int64_t nlat, const int64_t nlon, const std::function<double(double, double)> &f)
  {
    const auto quadrature = latitude_quadrature(grid, nlat);
    auto       values     = torch::empty({nlat, nlon}, torch::kDouble);
    auto       v          = values.accessor<double, 2>();
    for (int64_t k = 0; k < nlat; ++k)
      for (int64_t j = 0; j < nlon; ++j)
        v[k][j] = f(std::acos(quadrature.cos_theta[k]), 2. * M_PI * static_cast<double>(j) / static_cast<double>(nlon));
    return values;
  }

  /** Random coefficients of a real field band-limited to l < lmax: m <= l, Im = 0 at m = 0. */
  torch::Tensor
  random_coefficients(const int64_t batch, const int64_t lmax)
  {
    auto       a    = torch::complex(torch::randn({batch, lmax, lmax}), torch::randn({batch, lmax, lmax}));
    const auto l    = torch::arange(lmax).view({lmax, 1});
    const auto m    = torch::arange(lmax).view({1, lmax});
    const auto keep = (m <= l).to(torch::kFloat);
    a               = a * keep;
    return torch::complex(torch::real(a), torch::imag(a) * (m > 0).to(torch::kFloat));
  }

  double
  relative_l2(const torch::Tensor &a, const torch::Tensor &b)
  {
    return ((a - b).abs().norm() / b.abs().norm()).item<double>();
  }
} // namespace

TEST(SphericalHarmonics, QuadratureIsExactToItsDegree)
{
  for (const SphereGrid grid : both_grids)
    for (const int64_t nlat : {2, 5, 8, 17, 32})
      {
        if (grid == SphereGrid::legendre_gauss && nlat == 2)
          continue;
        const auto    q      = latitude_quadrature(grid, nlat);
        const int64_t degree = grid == SphereGrid::legendre_gauss ? 2 * nlat - 1 : nlat - 1;
        ASSERT_EQ(static_cast<int64_t>(q.weights.size()), nlat);
        for (int64_t k = 1; k < nlat; ++k)
          EXPECT_LT(q.cos_theta[k], q.cos_theta[k - 1]) << "nodes must run from the north pole";
        for (int64_t p = 0; p <= degree + 2; ++p)
          {
            double sum = 0.;
            for (int64_t k = 0; k < nlat; ++k)
              sum += q.weights[k] * std::pow(q.cos_theta[k], static_cast<double>(p));
            const double exact = p % 2 == 1 ? 0. : 2. / static_cast<double>(p + 1);
            if (p <= degree)
              EXPECT_NEAR(sum, exact, 1e-13) << to_string(grid) << " nlat " << nlat << " x^" << p;
            else if (p == degree + 1 && p % 2 == 0 && nlat <= 8) // the error shrinks fast with nlat
              EXPECT_GT(std::abs(sum - exact), 1e-8) << "exact beyond its degree? " << to_string(grid) << " " << nlat;
          }
      }
  EXPECT_THROW(latitude_quadrature(SphereGrid::equiangular, 1), std::invalid_argument);
  EXPECT_THROW(parse_sphere_grid("healpix"), std::invalid_argument);
  EXPECT_EQ(parse_sphere_grid(to_string(SphereGrid::legendre_gauss)), SphereGrid::legendre_gauss);
}

TEST(SphericalHarmonics, LegendreFunctionsAreOrthonormalUnderTheQuadrature)
{
  for (const SphereGrid grid : both_grids)
    {
      const int64_t nlat = 48, lmax = sht_lmax(grid, nlat);
      const auto    q    = latitude_quadrature(grid, nlat);
      const auto    p    = legendre_functions(lmax, lmax, q.cos_theta); // [m, l, k]
      const auto    w    = torch::tensor(q.weights, torch::kDouble);
      const auto    gram = 2. * M_PI * torch::einsum("mlk,mjk,k->mlj", {p, p, w}); // per m: [l, l']
      // delta_ll' for m <= l, l'; the rows m > l are zero.
      const auto l        = torch::arange(lmax, torch::kDouble);
      const auto valid    = (l.view({1, lmax}) >= l.view({lmax, 1})).to(torch::kDouble); // [m, l]
      const auto expected = torch::diag_embed(valid);
      EXPECT_LT((gram - expected).abs().max().item<double>(), 1e-12) << to_string(grid);
    }
}

TEST(SphericalHarmonics, ClosedFormHarmonicsGiveUnitCoefficientsInTheirSlot)
{
  for (const SphereGrid grid : both_grids)
    {
      const int64_t        nlat = grid == SphereGrid::equiangular ? 17 : 9, nlon = 18;
      const RealSHT        sht(nlat, nlon, 0, 0, grid);
      const InverseRealSHT isht(nlat, nlon, 0, 0, grid);
      ASSERT_GE(sht.lmax(), 4);
      for (int l = 0; l <= 3; ++l)
        for (int m = 0; m <= l; ++m)
          for (const std::complex<double> unit : {std::complex<double>(1., 0.), std::complex<double>(0., 1.)})
            {
              if (m == 0 && unit.imag() != 0.)
                continue; // a real field has a real m = 0 coefficient
              // f = sum over +-m of unit Y_l^m and its conjugate partner: 2 Re(unit Y_l^m), or Y_l^0.
              const auto field    = sample(grid, nlat, nlon, [&](double theta, double phi) {
                const double y = closed_form_legendre(l, m, theta);
                return (m == 0 ? 1. : 2.) * std::real(unit * std::polar(y, m * phi));
              });
              const auto a        = sht.forward(field.to(torch::kFloat).unsqueeze(0)).squeeze(0);
              auto       expected = torch::zeros_like(a);
              expected.index_put_({l, m}, c10::complex<float>(unit.real(), unit.imag()));
              EXPECT_LT((a - expected).abs().max().item<double>(), 2e-6)
                << to_string(grid) << " Y_" << l << "^" << m << " unit " << unit;
              // And the synthesis of that coefficient is the field.
              const auto back = isht.forward(expected.unsqueeze(0)).squeeze(0).to(torch::kDouble);
              EXPECT_LT((back - field).abs().max().item<double>(), 2e-6) << to_string(grid) << " l " << l << " m " << m;
            }
    }
}

TEST(SphericalHarmonics, BandLimitedRoundTripsToFloat32RoundingAtLmax64)
{
  torch::manual_seed(0);
  torch::set_num_threads(1);
  for (const SphereGrid grid : both_grids)
    {
      // lmax = 64 is what each grid resolves: 64 Gauss latitudes, 128 equiangular ones.
      const int64_t        nlat = grid == SphereGrid::legendre_gauss ? 64 : 128, nlon = 2 * nlat;
      const RealSHT        sht(nlat, nlon, 0, 0, grid);
      const InverseRealSHT isht(nlat, nlon, 0, 0, grid);
      ASSERT_EQ(sht.lmax(), 64);
      ASSERT_EQ(sht.mmax(), 64);
      const auto   a                 = random_coefficients(3, 64);
      const auto   field             = isht.forward(a);
      const auto   coefficient       = sht.forward(field);
      const double coefficient_error = relative_l2(coefficient, a);
      const double field_error       = relative_l2(isht.forward(coefficient), field);
      std::cout << to_string(grid) << " " << nlat << " x " << nlon << ", lmax 64, float32: coefficient round trip "
                << coefficient_error << ", field round trip " << field_error << std::endl;
      EXPECT_LT(coefficient_error, 1e-5) << to_string(grid);
      EXPECT_LT(field_error, 1e-5) << to_string(grid);

      // The reduced-type quadrature rounds (well above float32) within a few bfloat16
      // unit roundoffs (2^-9 = 2e-3).
      const double bf16_error = relative_l2(sht.forward(field, torch::kBFloat16), a);
      EXPECT_GT(bf16_error, 1e-4) << to_string(grid);
      EXPECT_LT(bf16_error, 1e-2) << to_string(grid);
    }
}

TEST(SphericalHarmonics, TruncationDefaultsAndTheTableCache)
{
  // torch-harmonics truncate_sht: lmax from the grid, mmax = nlon / 2 + 1, then both the smaller.
  EXPECT_EQ(RealSHT(32, 64, 0, 0, SphereGrid::legendre_gauss).lmax(), 32);
  EXPECT_EQ(RealSHT(33, 64, 0, 0, SphereGrid::equiangular).lmax(), 17);
  EXPECT_EQ(RealSHT(32, 16, 0, 0, SphereGrid::legendre_gauss).mmax(), 9);
  EXPECT_EQ(RealSHT(32, 64, 8, 0, SphereGrid::legendre_gauss).mmax(), 8);
  EXPECT_THROW(RealSHT(16, 32).forward(torch::zeros({1, 16, 30})), std::invalid_argument);

  const auto first  = cached_legendre_table(SphereGrid::equiangular, 9, 16, 5, 5, torch::kFloat, torch::kCPU, true);
  const auto second = cached_legendre_table(SphereGrid::equiangular, 9, 16, 5, 5, torch::kFloat, torch::kCPU, true);
  const auto other  = cached_legendre_table(SphereGrid::equiangular, 9, 16, 5, 5, torch::kBFloat16, torch::kCPU, true);
  EXPECT_EQ(first.data_ptr(), second.data_ptr());
  EXPECT_NE(first.data_ptr(), other.data_ptr());
  EXPECT_EQ(first.sizes(), (std::vector<int64_t>{5, 5, 9}));
  // The bfloat16 table holds bfloat16 values.
  EXPECT_TRUE(torch::equal(other.to(torch::kBFloat16).to(torch::kFloat), other.to(torch::kFloat)));
  EXPECT_GT((other.to(torch::kFloat) - first).abs().max().item<double>(), 0.);
}

TEST(SphericalHarmonics, ReducedQuadratureErrorStaysNearUnitRoundoffAtEveryResolution)
{
  // As the Fourier case (method.md Sec. 6.4, test_error_bounds.cc): the precision error of
  // the transform is O(u M), M = max |x|, whatever the grid. Measured: 0.39-0.60 u M on
  // both grids from nlat 17 to 129. The lower bound checks that the rounding happened.
  torch::set_num_threads(1);
  const double u = std::ldexp(1., -8); // bfloat16 unit roundoff
  for (const SphereGrid grid : both_grids)
    for (const int64_t nlat : {17, 33, 65, 129})
      {
        const int64_t nlon  = 2 * (nlat - 1);
        const auto    field = sample(grid, nlat, nlon, [](double t, double p) {
          return 3. * std::cos(t) * std::cos(t) - 1. + std::sin(t) * std::sin(t) * std::sin(t) * std::cos(3. * p) +
                 0.7 * std::sin(t) * std::cos(t) * std::sin(p);
        });
        const RealSHT sht(nlat, nlon, 8, 8, grid);
        const auto    exact   = sht.forward(field.to(torch::kFloat));
        const auto    reduced = sht.forward(field.to(torch::kFloat), torch::kBFloat16);
        const double  scale   = u * field.abs().max().item<double>();
        const double  error   = (reduced - exact).abs().max().item<double>();
        std::cout << to_string(grid) << " nlat " << nlat << ": bfloat16 quadrature error " << error / scale << " u M"
                  << std::endl;
        EXPECT_GT(error, 0.1 * scale) << to_string(grid) << " nlat " << nlat;
        EXPECT_LT(error, 3. * scale) << to_string(grid) << " nlat " << nlat;
      }
}

TEST(SphericalHarmonics, ExpansionAtArbitraryPointsInterpolatesSpectrally)
{
  // A band-limited field sampled on a coarse grid, transformed, and evaluated at random
  // points equals the closed form there; at the grid points it equals InverseRealSHT.
  torch::manual_seed(1);
  const auto f = [](double t, double p) {
    return closed_form_legendre(3, 2, t) * std::cos(2. * p + 0.3) + closed_form_legendre(1, 0, t) -
           0.5 * closed_form_legendre(2, 1, t) * std::sin(p);
  };
  for (const SphereGrid grid : both_grids)
    {
      const int64_t       nlat = grid == SphereGrid::equiangular ? 9 : 5, nlon = 10;
      const RealSHT       sht(nlat, nlon, 0, 0, grid);
      const auto          a = sht.forward(sample(grid, nlat, nlon, f).to(torch::kFloat));
      std::vector<double> cos_theta, phi;
      for (int i = 0; i < 50; ++i)
        {
          cos_theta.push_back(2. * torch::rand({1}).item<double>() - 1.);
          phi.push_back(2. * M_PI * torch::rand({1}).item<double>());
        }
      const auto values = evaluate_expansion(a, cos_theta, phi);
      double     error  = 0.;
      for (int i = 0; i < 50; ++i)
        error = std::max(error, std::abs(values[i].item<double>() - f(std::acos(cos_theta[i]), phi[i])));
      EXPECT_LT(error, 1e-5) << to_string(grid);

      const auto          nodes = latitude_quadrature(grid, nlat).cos_theta;
      std::vector<double> grid_cos, grid_phi;
      for (int64_t k = 0; k < nlat; ++k)
        for (int64_t j = 0; j < nlon; ++j)
          {
            grid_cos.push_back(nodes[k]);
            grid_phi.push_back(2. * M_PI * static_cast<double>(j) / static_cast<double>(nlon));
          }
      const auto on_grid = evaluate_expansion(a.unsqueeze(0), grid_cos, grid_phi).view({1, nlat, nlon});
      const auto inverse = InverseRealSHT(nlat, nlon, 0, 0, grid).forward(a.unsqueeze(0)).to(torch::kDouble);
      EXPECT_LT((on_grid - inverse).abs().max().item<double>(), 1e-6) << to_string(grid);
    }
  EXPECT_THROW(evaluate_expansion(torch::zeros({4, 4}), {0.}, {0.}), std::invalid_argument);
  EXPECT_THROW(evaluate_expansion(torch::zeros({4, 4}, torch::kComplexFloat), {0., 1.}, {0.}), std::invalid_argument);
}
