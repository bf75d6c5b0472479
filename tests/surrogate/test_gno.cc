// The GNO integral transform: the sinusoidal embedding's closed form, segment reductions,
// a constant kernel against the exact integral of a polynomial over a ball (uniform point
// cloud, mean and sum), permutation invariance, packing of instances, gradients.
#include <mpno/surrogate/gno.h>

#include "finite_difference.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>

using namespace mpno;

namespace
{
  /** The points of a uniform grid with n points per axis on [0, 1]^d, [n^d, d] float32. */
  torch::Tensor
  uniform_cloud(const int64_t n, const int64_t d)
  {
    const auto                 axis = torch::linspace(0., 1., n, torch::kDouble);
    std::vector<torch::Tensor> axes(d, axis);
    return torch::stack(torch::meshgrid(axes, "ij"), -1).reshape({-1, d}).to(torch::kFloat);
  }

  /** Make the kernel MLP the constant @p c: every weight zero, the last bias c. */
  void
  make_constant_kernel(GNOBlock &gno, const double c)
  {
    torch::NoGradGuard no_grad;
    for (auto &p : gno->channel_mlp->parameters())
      p.zero_();
    const auto last = gno->channel_mlp->fcs[gno->channel_mlp->fcs->size() - 1]->as<torch::nn::Linear>();
    last->bias.fill_(c);
  }
} // namespace

TEST(SinusoidalEmbedding, MatchesTheClosedForms)
{
  const auto p = torch::tensor({0.3, -1.2, 0.7, 2.0}, torch::kDouble).view({2, 2});
  for (const std::string type : {"transformer", "nerf"})
    {
      SinusoidalEmbedding embedding(2, 3, type, 100.);
      const auto          e = embedding->forward(p);
      ASSERT_EQ(e.sizes(), (std::vector<int64_t>{2, 12}));
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t i = 0; i < 2; ++i)
          for (int64_t k = 0; k < 3; ++k)
            {
              const double w     = type == "nerf" ? std::pow(2., k) * M_PI : std::pow(100., -2. * k / 3.);
              const double phase = w * p[n][i].item<double>();
              EXPECT_NEAR(e[n][2 * (3 * i + k)].item<double>(), std::sin(phase), 1e-12);
              EXPECT_NEAR(e[n][2 * (3 * i + k) + 1].item<double>(), std::cos(phase), 1e-12);
            }
    }
  EXPECT_THROW(SinusoidalEmbedding(2, 3, "fourier"), std::invalid_argument);
}

TEST(SegmentReduce, SumsAndMeansEachRowEmptyRowsGiveZero)
{
  const auto values = torch::arange(12, torch::kFloat).view({6, 2});
  const auto splits = torch::tensor({0, 2, 2, 5, 6}, torch::kLong);
  const auto sum    = segment_reduce(values, splits, "sum");
  const auto mean   = segment_reduce(values, splits, "mean");
  const auto expected_sum =
    torch::tensor({0. + 2., 1. + 3., 0., 0., 4. + 6. + 8., 5. + 7. + 9., 10., 11.}, torch::kFloat).view({4, 2});
  EXPECT_TRUE(torch::allclose(sum, expected_sum));
  EXPECT_TRUE(torch::allclose(mean, expected_sum / torch::tensor({2., 1., 3., 1.}).view({4, 1})));
  EXPECT_THROW(segment_reduce(values, splits, "max"), std::invalid_argument);
  EXPECT_THROW(segment_reduce(values, torch::tensor({0, 2}, torch::kLong), "sum"), std::invalid_argument);
}

TEST(GNO, ConstantKernelIntegratesAPolynomialOverTheBall)
{
  // k = c, f(y) = 1 + y_0^2 (linear transform). The sum over a uniform cloud times the cell
  // volume h^d approximates c int_{B_r(x)} f dy; the mean approximates its average:
  //   int_{B_r(x)} (1 + y_0^2) dy = |B| (1 + x_0^2) + int_B u_0^2 du,
  //   int_B u_0^2 du = pi r^4 / 4 (d = 2), 4 pi r^5 / 15 (d = 3).
  torch::set_num_threads(1);
  const double c = 1.5, r = 0.2;
  for (const int64_t d : {2, 3})
    {
      const int64_t n = d == 2 ? 161 : 65;
      const double  h = 1. / static_cast<double>(n - 1);
      const auto    y = uniform_cloud(n, d);
      const auto    f = 1. + y.slice(1, 0, 1).pow(2);
      // Off-lattice queries whose balls lie inside [0, 1]^d.
      const auto   x = torch::tensor({0.5, 0.5, 0.5, 0.413, 0.61, 0.37, 0.29, 0.71, 0.55}).view({3, 3}).slice(1, 0, d);
      const double volume = d == 2 ? M_PI * r * r : 4. / 3. * M_PI * r * r * r;
      const double moment = d == 2 ? M_PI * std::pow(r, 4) / 4. : 4. * M_PI * std::pow(r, 5) / 15.;
      const auto   graph  = radius_neighbors(y, x, r);
      for (const std::string reduction : {"sum", "mean"})
        {
          GNOBlockOptions options;
          options.in_channels = options.out_channels = 1;
          options.coord_dim                          = d;
          options.channel_mlp_layers                 = {8};
          options.reduction                          = reduction;
          options.pos_embedding_type                 = "none";
          GNOBlock gno(options);
          make_constant_kernel(gno, c);
          torch::NoGradGuard no_grad;
          const auto         out       = gno->forward(y, x, graph, f);
          double             max_error = 0.;
          for (int64_t i = 0; i < 3; ++i)
            {
              const double x0       = x[i][0].item<double>();
              const double integral = c * (volume * (1. + x0 * x0) + moment);
              const double exact    = reduction == "sum" ? integral : integral / volume;
              const double computed = out[i][0].item<double>() * (reduction == "sum" ? std::pow(h, d) : 1.);
              max_error             = std::max(max_error, std::abs(computed - exact) / exact);
            }
          std::cout << "GNO quadrature d " << d << ", " << reduction << ", r/h " << r / h << ": max relative error "
                    << max_error << std::endl;
          // The sum carries the error of the lattice-point count of the ball (measured
          // 2.5e-3 in 2D at r/h 32, 5.9e-3 in 3D at r/h 12.8); in the mean the count
          // cancels (measured 4.0e-5 and 3.4e-5).
          EXPECT_LT(max_error, reduction == "sum" ? 1.5e-2 : 1e-3);
        }
    }
}

TEST(GNO, IsInvariantToThePermutationOfTheInputPoints)
{
  torch::manual_seed(3);
  torch::set_num_threads(1);
  for (const std::string transform : {"linear", "nonlinear", "linear_kernelonly"})
    {
      GNOBlockOptions options;
      options.in_channels = options.out_channels = 2;
      options.coord_dim                          = 3;
      options.channel_mlp_layers                 = {16, 16};
      options.transform_type                     = transform;
      options.pos_embedding_channels             = 4;
      GNOBlock           gno(options);
      torch::NoGradGuard no_grad;
      const auto         y = torch::rand({300, 3}), f = torch::randn({300, 2}), x = torch::rand({40, 3});
      const auto         out         = gno->forward(y, x, radius_neighbors(y, x, 0.3), f);
      const auto         permutation = torch::randperm(300, torch::kLong);
      const auto         yp = y.index_select(0, permutation), fp = f.index_select(0, permutation);
      const auto         permuted = gno->forward(yp, x, radius_neighbors(yp, x, 0.3), fp);
      EXPECT_LT((out - permuted).abs().max().item<double>(), 1e-5 * (1. + out.abs().max().item<double>())) << transform;
    }
}

TEST(GNO, EqualsTheKernelMLPAppliedToEachPairAndFollowsAutocast)
{
  // The per-point first layer must compute exactly neuraloperator's per-pair kernel
  // k([e(y_j), e(x_i), f(y_j)]) f(y_j), averaged over each neighbourhood.
  torch::manual_seed(6);
  torch::set_num_threads(1);
  GNOBlockOptions options;
  options.in_channels = options.out_channels = 2;
  options.coord_dim                          = 3;
  options.channel_mlp_layers                 = {16, 8};
  options.transform_type                     = "nonlinear";
  options.pos_embedding_channels             = 3;
  auto               policy                  = std::make_shared<PrecisionPolicy>();
  GNOBlock           gno(options, policy);
  torch::NoGradGuard no_grad;
  const auto         y = torch::rand({200, 3}), f = torch::randn({200, 2}), x = torch::rand({30, 3});
  const auto         graph  = radius_neighbors(y, x, 0.3);
  const auto         counts = graph.row_splits.slice(0, 1) - graph.row_splits.slice(0, 0, -1);
  const auto         ey = gno->pos_embedding->forward(y), ex = gno->pos_embedding->forward(x);
  const auto         f_j = f.index_select(0, graph.neighbors_index);
  const auto         pairs =
    torch::cat({ey.index_select(0, graph.neighbors_index), torch::repeat_interleave(ex, counts, 0, graph.nnz()), f_j},
               1);
  const auto expected = segment_reduce(gno->channel_mlp->forward(pairs) * f_j, graph.row_splits, "mean");
  const auto out      = gno->forward(y, x, graph, f);
  EXPECT_LT((out - expected).abs().max().item<double>(), 1e-5 * expected.abs().max().item<double>());

  // Under autocast the kernel runs in bfloat16: close to float32, but really rounded.
  policy->autocast     = true;
  policy->reduced_type = ReducedType::bfloat16;
  const auto   reduced = gno->forward(y, x, graph, f);
  const double error   = ((reduced - out).norm() / out.norm()).item<double>();
  std::cout << "GNO kernel in bfloat16: relative difference " << error << std::endl;
  EXPECT_EQ(reduced.scalar_type(), torch::kFloat);
  EXPECT_GT(error, 1e-5);
  EXPECT_LT(error, 3e-2);
}

TEST(GNO, PackedInstancesEqualSeparateOnes)
{
  torch::manual_seed(4);
  torch::set_num_threads(1);
  GNOBlockOptions options;
  options.in_channels = options.out_channels = 3;
  options.coord_dim                          = 2;
  options.channel_mlp_layers                 = {16};
  GNOBlock           gno(options);
  torch::NoGradGuard no_grad;
  const auto         y0 = torch::rand({50, 2}), f0 = torch::randn({50, 3}), x0 = torch::rand({9, 2});
  const auto         y1 = torch::rand({80, 2}), f1 = torch::randn({80, 3}), x1 = torch::rand({4, 2});
  const auto         g0 = radius_neighbors(y0, x0, 0.25), g1 = radius_neighbors(y1, x1, 0.25);
  const auto         packed =
    gno->forward(torch::cat({y0, y1}), torch::cat({x0, x1}), pack_neighbors({g0, g1}, {50, 80}), torch::cat({f0, f1}));
  const auto separate = torch::cat({gno->forward(y0, x0, g0, f0), gno->forward(y1, x1, g1, f1)});
  EXPECT_TRUE(torch::allclose(packed, separate, 1e-6, 1e-6));
  EXPECT_THROW(gno->forward(y0, x0, g0, torch::randn({50, 2})), std::invalid_argument);
  EXPECT_THROW(gno->forward(y0, x1, g0, f0), std::invalid_argument);
  options.out_channels = 2; // a diagonal kernel needs out = in for linear
  EXPECT_THROW(GNOBlock{options}, std::invalid_argument);
}

TEST(GNO, GradientsMatchFiniteDifferences)
{
  torch::manual_seed(5);
  torch::set_num_threads(1);
  for (const std::string transform : {"linear", "nonlinear"})
    {
      GNOBlockOptions options;
      options.in_channels = options.out_channels = 2;
      options.coord_dim                          = 2;
      options.channel_mlp_layers                 = {8, 8};
      options.transform_type                     = transform;
      options.pos_embedding_channels             = 3;
      GNOBlock   gno(options);
      const auto y = torch::rand({60, 2}), x = torch::rand({12, 2});
      auto       f     = torch::randn({60, 2}).requires_grad_(true);
      const auto graph = radius_neighbors(y, x, 0.3);
      const auto r     = torch::randn({12, 2});
      auto       loss  = [&] { return (gno->forward(y, x, graph, f) * r).sum(); };
      loss().backward();
      torch::NoGradGuard no_grad;
      const double       eps = 1e-2;
      for (auto &named : gno->named_parameters())
        {
          const int64_t index = named.value().numel() / 2;
          const double  fd    = test::central_difference(named.value(), index, eps, loss);
          EXPECT_NEAR(named.value().grad().view({-1})[index].item<double>(), fd, 1e-2 * std::max(1., std::abs(fd)))
            << transform << " " << named.key();
        }
      // And with respect to the input function f (through the kernel for nonlinear).
      for (const int64_t index : {0, 37, 101})
        {
          const double fd = test::central_difference(f, index, eps, loss);
          EXPECT_NEAR(f.grad().view({-1})[index].item<double>(), fd, 1e-2 * std::max(1., std::abs(fd)))
            << transform << " f entry " << index;
        }
    }
}
