// LpLoss and H1Loss (losses.h) against values computed by hand: Fourier modes on periodic
// grids, whose discrete norms and central differences have closed forms.
#include <mpno/surrogate/losses.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace
{
  constexpr double pi = 3.14159265358979323846;

  /** The grid points i / n, i = 0..n-1, of the unit period, in float64. */
  torch::Tensor
  grid(int64_t n)
  {
    return torch::arange(n, torch::kFloat64) / static_cast<double>(n);
  }

  double
  value(const torch::Tensor &t)
  {
    EXPECT_EQ(t.dim(), 0);
    EXPECT_EQ(t.scalar_type(), torch::kFloat32);
    return t.item<double>();
  }
} // namespace

TEST(LpLoss, ScaledSineHasRelativeErrorOneTenthPerSampleAndChannel)
{
  // [batch 3, channels 2, 32]: 6 ratios of 0.1, summed over channels: 0.2 per sample.
  const auto y = torch::sin(2 * pi * grid(32)).expand({3, 2, 32}).to(torch::kFloat32);
  EXPECT_NEAR(value(mpno::LpLoss(1)(1.1 * y, y)), 0.6, 1e-6);
  EXPECT_NEAR(value(mpno::LpLoss(1, 2., mpno::LossReduction::mean)(1.1 * y, y)), 0.2, 1e-6);
  // 2D: the norm runs over both trailing axes.
  const auto x1 = grid(8).view({8, 1}), x2 = grid(8).view({1, 8});
  const auto y2 = (torch::sin(2 * pi * x1) + torch::cos(2 * pi * x2)).expand({2, 1, 8, 8});
  EXPECT_NEAR(value(mpno::LpLoss(2)(0.7 * y2, y2)), 0.6, 1e-6);
}

TEST(LpLoss, HandComputedL1AndL2)
{
  const auto y    = torch::tensor({1.f, -2.f, 3.f, -4.f}).view({1, 1, 4});
  const auto pred = y + torch::tensor({1.f, 0.f, 0.f, -1.f}).view({1, 1, 4});
  EXPECT_NEAR(value(mpno::LpLoss(1, 1.)(pred, y)), 2. / 10., 1e-7);
  EXPECT_NEAR(value(mpno::LpLoss(1, 2.)(pred, y)), std::sqrt(2. / 30.), 1e-7);
}

TEST(LpLoss, ChannelRatiosAreSummedNotPooled)
{
  const auto s    = torch::sin(2 * pi * grid(16)).to(torch::kFloat32);
  const auto y    = torch::stack({s, 100 * s}).unsqueeze(0);       // [1, 2, 16]
  const auto pred = torch::stack({1.1 * s, 130 * s}).unsqueeze(0); // ratios 0.1, 0.3
  EXPECT_NEAR(value(mpno::LpLoss(1)(pred, y)), 0.4, 1e-6);
}

TEST(LpLoss, SumAndMeanOverBatch)
{
  const auto s     = torch::sin(2 * pi * grid(16)).to(torch::kFloat32);
  const auto y     = s.expand({4, 1, 16});
  const auto scale = torch::tensor({1.1f, 0.8f, 1.3f, 1.4f}).view({4, 1, 1}); // 0.1..0.4
  EXPECT_NEAR(value(mpno::LpLoss(1)(scale * y, y)), 1.0, 1e-6);
  EXPECT_NEAR(value(mpno::LpLoss(1, 2., mpno::LossReduction::mean)(scale * y, y)), 0.25, 1e-6);
  // none: the per-sample ratios 0.2, 0.2, 0.3, 0.4 (the Trainer's evaluation adds them).
  const auto per_sample = mpno::LpLoss(1, 2., mpno::LossReduction::none)(scale * y, y);
  ASSERT_EQ(per_sample.sizes(), torch::IntArrayRef({4}));
  EXPECT_EQ(per_sample.scalar_type(), torch::kFloat32);
  const double expected[] = {0.1, 0.2, 0.3, 0.4};
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(per_sample[i].item<double>(), expected[i], 1e-6) << i;
}

TEST(LpLoss, EpsOfOneEMinusEightInDenominator)
{
  // ||y|| = 0: the ratio is ||x|| / 1e-8 = 2e-9 / 1e-8.
  const auto y = torch::zeros({1, 1, 4});
  EXPECT_NEAR(value(mpno::LpLoss(1)(torch::full({1, 1, 4}, 1e-9), y)), 0.2, 1e-6);
}

TEST(LpLoss, ComputesInFloat32ForAnyInputDtype)
{
  const auto y = torch::sin(2 * pi * grid(16)).view({1, 1, 16});
  EXPECT_NEAR(value(mpno::LpLoss(1)(1.1 * y, y)), 0.1, 1e-6); // float64 in
  const auto yh = y.to(torch::kHalf);
  EXPECT_NEAR(value(mpno::LpLoss(1)((1.1 * y).to(torch::kHalf), yh)), 0.1, 1e-3);
}

TEST(H1Loss, SineModesMatchClosedFormCentralDifference)
{
  // On n points, D sin(2 pi k x) = n sin(2 pi k / n) cos(2 pi k x), and sin^2, cos^2 of a
  // mode with 0 < k < n / 2 sum to n / 2. For y = sin(2 pi x), pred = y + a sin(4 pi x):
  // H1 = a sqrt(1 + (n sin(4 pi / n))^2) / sqrt(1 + (n sin(2 pi / n))^2).
  const int64_t n    = 16;
  const double  a    = 0.5;
  const auto    y    = torch::sin(2 * pi * grid(n)).view({1, 1, n});
  const auto    pred = y + a * torch::sin(4 * pi * grid(n)).view({1, 1, n});
  const double  d1 = n * std::sin(2 * pi / n), d2 = n * std::sin(4 * pi / n);
  const double  expected = a * std::sqrt(1 + d2 * d2) / std::sqrt(1 + d1 * d1);
  EXPECT_NEAR(value(mpno::H1Loss(1)(pred, y)), expected, 1e-6 * expected);
  // Differs from the relative L2 error a: the derivative term counts.
  EXPECT_GT(std::abs(expected - a), 0.3);
}

TEST(H1Loss, TwoDimensionalModesOnAnisotropicGrid)
{
  // y = sin(2 pi x1) cos(4 pi x2), pred - y = a cos(6 pi x1) on 16 x 12 points, h_j = 1 / n_j.
  const int64_t n1 = 16, n2 = 12;
  const double  a  = 0.3;
  const auto    x1 = grid(n1).view({n1, 1}), x2 = grid(n2).view({1, n2});
  const auto    y = (torch::sin(2 * pi * x1) * torch::cos(4 * pi * x2)).view({1, 1, n1, n2});
  const auto    z = torch::cos(6 * pi * x1).expand({n1, n2}).view({1, 1, n1, n2});
  // Sums over the grid of squared modes: n1 n2 / 4 for y and its derivatives, n1 n2 / 2 for z.
  const double dy1 = n1 * std::sin(2 * pi / n1), dy2 = n2 * std::sin(4 * pi / n2);
  const double dz1      = n1 * std::sin(6 * pi / n1);
  const double expected = a * std::sqrt((1 + dz1 * dz1) / 2) / std::sqrt((1 + dy1 * dy1 + dy2 * dy2) / 4);
  EXPECT_NEAR(value(mpno::H1Loss(2)(y + a * z, y)), expected, 1e-6 * expected);
}

TEST(H1Loss, ChannelsAreSummedInsideTheNorms)
{
  // Channel 0 off by 10 %, channel 1 = 10 x channel 0 exact: 0.1 / sqrt(1 + 100) per sample.
  const auto s    = torch::sin(2 * pi * grid(16)).to(torch::kFloat32);
  const auto y    = torch::stack({s, 10 * s}).unsqueeze(0);
  const auto pred = torch::stack({1.1 * s, 10 * s}).unsqueeze(0);
  EXPECT_NEAR(value(mpno::H1Loss(1)(pred, y)), 0.1 / std::sqrt(101.), 1e-7);
}

TEST(H1Loss, SumAndMeanOverBatch)
{
  // A scaled field c y has relative H1 error |c - 1| whatever the derivatives.
  const auto x1 = grid(8).view({8, 1}), x2 = grid(8).view({1, 8});
  const auto y     = (torch::sin(2 * pi * x1) * torch::sin(2 * pi * x2)).expand({3, 1, 8, 8});
  const auto scale = torch::tensor({1.1f, 1.2f, 0.7f}).view({3, 1, 1, 1});
  EXPECT_NEAR(value(mpno::H1Loss(2)(scale * y, y)), 0.6, 1e-6);
  EXPECT_NEAR(value(mpno::H1Loss(2, mpno::LossReduction::mean)(scale * y, y)), 0.2, 1e-6);
  const auto per_sample = mpno::H1Loss(2, mpno::LossReduction::none)(scale * y, y);
  ASSERT_EQ(per_sample.sizes(), torch::IntArrayRef({3}));
  const double expected[] = {0.1, 0.2, 0.3};
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(per_sample[i].item<double>(), expected[i], 1e-6) << i;
}

TEST(Losses, GradientIsFiniteAtZeroError)
{
  const auto y = torch::rand({2, 1, 8, 8});
  for (int which = 0; which < 2; ++which)
    {
      const auto pred = y.clone().requires_grad_(true);
      const auto loss = which == 0 ? mpno::LpLoss(2)(pred, y) : mpno::H1Loss(2)(pred, y);
      EXPECT_EQ(loss.item<double>(), 0.);
      loss.backward();
      EXPECT_TRUE(torch::isfinite(pred.grad()).all().item<bool>()) << "loss " << which;
    }
}

TEST(Losses, ShapeAndRankErrors)
{
  const auto a = torch::zeros({2, 1, 8, 8}), b = torch::zeros({2, 1, 8, 4});
  EXPECT_THROW(mpno::LpLoss(2)(a, b), std::invalid_argument);
  EXPECT_THROW(mpno::H1Loss(2)(a, b), std::invalid_argument);
  const auto c = torch::zeros({2, 8, 8}); // no channel axis
  EXPECT_THROW(mpno::LpLoss(2)(c, c), std::invalid_argument);
  EXPECT_THROW(mpno::H1Loss(2)(c, c), std::invalid_argument);
  EXPECT_THROW(mpno::LpLoss(0), std::invalid_argument);
  EXPECT_THROW(mpno::LpLoss(2, 0.), std::invalid_argument);
  EXPECT_THROW(mpno::H1Loss(0), std::invalid_argument);
  try
    {
      mpno::LpLoss(2)(a, b);
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("[2, 1, 8, 8] and [2, 1, 8, 4]"), std::string::npos) << error.what();
    }
}
