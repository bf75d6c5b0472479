// SpectralConv against a direct (naive) DFT, resolution invariance, super-resolution
// and gradients against finite differences.
#include <mpno/surrogate/spectral_conv.h>

#include "finite_difference.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <vector>

using namespace mpno;

namespace
{
  /**
   * The kept frequencies of one axis, derived independently of kept_modes(): on a
   * non-last axis neuraloperator keeps the centred block k in [-m/2, m/2 + m%2) of the
   * fftshifted spectrum, of which a grid of n points resolves k in [-floor(n/2),
   * ceil(n/2)); the real-to-complex last axis keeps k in [0, m/2] and resolves [0, n/2].
   */
  std::vector<int64_t>
  frequencies(const int64_t n, const int64_t m, const bool last)
  {
    std::vector<int64_t> k;
    if (last)
      {
        for (int64_t f = 0; f <= std::min(m / 2, n / 2); ++f)
          k.push_back(f);
        return k;
      }
    for (int64_t f = -m / 2; f < m / 2 + m % 2; ++f)
      if (f >= -(n / 2) && f < n - n / 2)
        k.push_back(f);
    return k;
  }

  /** Index of frequency k in the weight's axis with n_modes m (ceil(m/2) non-negative first). */
  int64_t
  weight_index(const int64_t k, const int64_t m, const bool last)
  {
    if (last || k >= 0)
      return k;
    return m + k;
  }

  /**
   * y = F^{-1}(W . F x) + b by direct sums in double, for x [B, I, n...] and output grid
   * out: X(k) = N^{-1} sum_n x(n) e^{-2 pi i k.n/N}; Y_o(k) = sum_i X_i(k) W[i, o, k];
   * y(n') = sum_k c(k_d) Re(Y(k) e^{2 pi i k.n'/N'}) with c = 1 for k_d = 0 or the
   * output's Nyquist, 2 otherwise (the Hermitian completion of the last axis).
   */
  torch::Tensor
  naive_spectral_conv(const torch::Tensor &x, SpectralConvImpl &conv, const std::vector<int64_t> &out_shape)
  {
    const auto   &m = conv.options().n_modes();
    const int64_t d = static_cast<int64_t>(m.size());
    const int64_t B = x.size(0), I = x.size(1), O = conv.options().out_channels();
    std::vector<int64_t> in_shape(x.sizes().begin() + 2, x.sizes().end());
    std::vector<std::vector<int64_t>> freqs(d);
    for (int64_t j = 0; j < d; ++j)
      freqs[j] = frequencies(std::min(in_shape[j], out_shape[j]), m[j], j == d - 1);

    const auto xd = x.to(torch::kDouble).contiguous();
    const auto w  = conv.weight.to(torch::kDouble).contiguous();
    const auto b  = conv.bias.to(torch::kDouble).reshape({-1});

    auto grid_points = [](const std::vector<int64_t> &shape) {
      std::vector<std::vector<int64_t>> points(1);
      for (const int64_t n : shape)
        {
          std::vector<std::vector<int64_t>> next;
          for (const auto &p : points)
            for (int64_t i = 0; i < n; ++i)
              {
                auto q = p;
                q.push_back(i);
                next.push_back(q);
              }
          points = next;
        }
      return points;
    };
    std::vector<std::vector<int64_t>> modes(1);
    for (int64_t j = 0; j < d; ++j)
      {
        std::vector<std::vector<int64_t>> next;
        for (const auto &p : modes)
          for (const int64_t k : freqs[j])
            {
              auto q = p;
              q.push_back(k);
              next.push_back(q);
            }
        modes = next;
      }
    const auto in_points  = grid_points(in_shape);
    const auto out_points = grid_points(out_shape);
    double     n_total    = 1;
    for (const int64_t n : in_shape)
      n_total *= n;

    std::vector<int64_t> y_shape = {B, O};
    y_shape.insert(y_shape.end(), out_shape.begin(), out_shape.end());
    auto y = torch::zeros(y_shape, torch::kDouble);
    auto y_flat = y.view({B, O, -1});
    auto x_flat = xd.view({B, I, -1});
    for (int64_t batch = 0; batch < B; ++batch)
      for (const auto &k : modes)
        {
          std::vector<std::complex<double>> X(I);
          for (int64_t i = 0; i < I; ++i)
            for (std::size_t p = 0; p < in_points.size(); ++p)
              {
                double phase = 0;
                for (int64_t j = 0; j < d; ++j)
                  phase += static_cast<double>(k[j] * in_points[p][j]) / static_cast<double>(in_shape[j]);
                X[i] += x_flat[batch][i][p].item<double>() * std::polar(1., -2 * M_PI * phase) / n_total;
              }
          const bool   nyquist = out_shape[d - 1] % 2 == 0 && k[d - 1] == out_shape[d - 1] / 2;
          const double c       = (k[d - 1] == 0 || nyquist) ? 1. : 2.;
          for (int64_t o = 0; o < O; ++o)
            {
              std::complex<double> Y = 0;
              for (int64_t i = 0; i < I; ++i)
                {
                  auto wi = w[i][o];
                  for (int64_t j = 0; j < d; ++j)
                    wi = wi[weight_index(k[j], m[j], j == d - 1)];
                  Y += X[i] * std::complex<double>(wi[0].item<double>(), wi[1].item<double>());
                }
              for (std::size_t p = 0; p < out_points.size(); ++p)
                {
                  double phase = 0;
                  for (int64_t j = 0; j < d; ++j)
                    phase += static_cast<double>(k[j] * out_points[p][j]) / static_cast<double>(out_shape[j]);
                  y_flat[batch][o][p] += c * std::real(Y * std::polar(1., 2 * M_PI * phase));
                }
            }
        }
    std::vector<int64_t> bias_shape(d + 2, 1);
    bias_shape[1] = O;
    return y + b.view(bias_shape);
  }

  void
  expect_matches_naive(const std::vector<int64_t> &grid,
                       const std::vector<int64_t> &n_modes,
                       const std::vector<int64_t> &out_grid = {})
  {
    torch::manual_seed(7);
    torch::set_num_threads(1);
    SpectralConv conv(SpectralConvOptions(3, 2, n_modes));
    {
      torch::NoGradGuard no_grad;
      conv->bias.uniform_(-1, 1);
    }
    std::vector<int64_t> shape = {2, 3};
    shape.insert(shape.end(), grid.begin(), grid.end());
    const auto x        = torch::randn(shape);
    const auto out      = out_grid.empty() ? grid : out_grid;
    const auto y        = conv->forward(x, out_grid).to(torch::kDouble);
    const auto expected = naive_spectral_conv(x, *conv, out);
    ASSERT_EQ(y.sizes(), expected.sizes());
    const double error = (y - expected).abs().max().item<double>();
    const double scale = expected.abs().max().item<double>();
    EXPECT_LT(error, 2e-5 * scale) << "grid " << torch::IntArrayRef(grid) << " modes " << torch::IntArrayRef(n_modes);
  }
} // namespace

TEST(SpectralConv, KeptModes)
{
  // non-last axis, m = 8 on 16 points: k = -4 .. 3
  EXPECT_EQ(kept_modes(16, 8, false).n_positive, 4);
  EXPECT_EQ(kept_modes(16, 8, false).n_negative, 4);
  // odd m = 5: k = -2 .. 2
  EXPECT_EQ(kept_modes(16, 5, false).n_positive, 3);
  EXPECT_EQ(kept_modes(16, 5, false).n_negative, 2);
  // a coarse grid keeps what it resolves: 6 points, k = -3 .. 2
  EXPECT_EQ(kept_modes(6, 8, false).count(), 6);
  // last axis: m/2 + 1, clipped to n/2 + 1
  EXPECT_EQ(kept_modes(16, 8, true).n_positive, 5);
  EXPECT_EQ(kept_modes(6, 8, true).n_positive, 4);
}

TEST(SpectralConv, MatchesDirectDFT1D)
{
  expect_matches_naive({16}, {6});
  expect_matches_naive({15}, {7});
}

TEST(SpectralConv, MatchesDirectDFT2D)
{
  expect_matches_naive({12, 10}, {6, 6});
  expect_matches_naive({9, 7}, {5, 4});
  expect_matches_naive({8, 8}, {12, 12}); // more modes than the grid resolves
}

TEST(SpectralConv, MatchesDirectDFT3D)
{
  expect_matches_naive({8, 6, 7}, {4, 4, 4});
  expect_matches_naive({5, 6, 8}, {3, 4, 6});
}

TEST(SpectralConv, SuperResolutionMatchesDirectDFT)
{
  expect_matches_naive({12}, {6}, {40});
  expect_matches_naive({12, 10}, {6, 6}, {20, 24});
  expect_matches_naive({6, 6, 6}, {4, 4, 4}, {8, 12, 10});
  expect_matches_naive({16, 16}, {8, 8}, {12, 10}); // coarser output
}

namespace
{
  /** A band-limited periodic function on [0,1)^2 sampled on n x n points, [1, 2, n, n]. */
  torch::Tensor
  band_limited(const int64_t n)
  {
    const auto s = torch::arange(n, torch::kDouble) / static_cast<double>(n);
    const auto g = torch::meshgrid({s, s}, "ij");
    const auto a = torch::sin(2 * M_PI * g[0]) + 0.5 * torch::cos(2 * M_PI * (2 * g[0] - 3 * g[1])) + 0.2;
    const auto b = torch::cos(2 * M_PI * 3 * g[1]) - 0.3 * torch::sin(2 * M_PI * (g[0] + g[1]));
    return torch::stack({a, b}).unsqueeze(0).to(torch::kFloat);
  }
} // namespace

TEST(SpectralConv, ResolutionInvariance)
{
  torch::manual_seed(3);
  SpectralConv conv(SpectralConvOptions(2, 3, {8, 8}));
  const auto   coarse = conv->forward(band_limited(16));
  const auto   fine   = conv->forward(band_limited(32));
  // The same function: the fine output sampled at the coarse points equals the coarse output.
  const auto fine_at_coarse = fine.index({torch::indexing::Slice(), torch::indexing::Slice(),
                                          torch::indexing::Slice(0, 32, 2), torch::indexing::Slice(0, 32, 2)});
  EXPECT_LT((fine_at_coarse - coarse).abs().max().item<double>(), 1e-5 * coarse.abs().max().item<double>());
  // Zero-shot super-resolution from 16^2 onto 32^2 gives the 32^2 evaluation.
  const auto super = conv->forward(band_limited(16), {32, 32});
  EXPECT_LT((super - fine).abs().max().item<double>(), 1e-5 * fine.abs().max().item<double>());
}

TEST(SpectralConv, GradientsMatchFiniteDifferences)
{
  torch::manual_seed(11);
  torch::set_num_threads(1);
  auto policy        = std::make_shared<PrecisionPolicy>();
  policy->stabilizer = Stabilizer::tanh; // a nonlinear map, so the check is not trivial
  SpectralConv conv(SpectralConvOptions(2, 2, {4, 4}), policy);
  auto         x = torch::randn({1, 2, 8, 6}).requires_grad_(true);
  const auto   r = torch::randn({1, 2, 8, 6});
  auto         loss_of = [&]() { return (conv->forward(x).pow(2) * r).sum(); };

  auto loss = loss_of();
  loss.backward();
  const auto grad_w = conv->weight.grad().clone();
  const auto grad_x = x.grad().clone();

  torch::NoGradGuard no_grad;
  const double       eps = 1e-2;
  auto               check = [&](torch::Tensor &parameter, const torch::Tensor &grad, const int64_t index) {
    const double fd = test::central_difference(parameter, index, eps, loss_of);
    const double ad   = grad.view({-1})[index].item<double>();
    EXPECT_NEAR(ad, fd, 2e-2 * std::max(1., std::abs(fd))) << "index " << index;
  };
  for (const int64_t index : {0, 5, 17, 40, 63})
    check(conv->weight, grad_w, index);
  for (const int64_t index : {0, 9, 33, 70, 95})
    check(x, grad_x, index);
}

namespace
{
  /**
   * The same layer written with LibTorch's own full-spectrum transforms and autograd:
   * rfftn, the kept block picked by index from the full spectrum, a complex einsum, a
   * zero-filled full spectrum and irfftn. Used to check the custom backward of the
   * truncated real FFT, including the Nyquist bin and odd last axes.
   */
  torch::Tensor
  reference_2d(const torch::Tensor &x, const torch::Tensor &weight, const std::vector<int64_t> &m)
  {
    const int64_t n1 = x.size(2), n2 = x.size(3);
    std::vector<int64_t> rows, weight_rows;
    for (const int64_t k : frequencies(n1, m[0], false))
      {
        rows.push_back(k >= 0 ? k : n1 + k);
        weight_rows.push_back(k >= 0 ? k : m[0] + k);
      }
    const int64_t n_cols  = static_cast<int64_t>(frequencies(n2, m[1], true).size());
    const auto    row_idx = torch::tensor(rows);
    const auto    X = torch::fft::rfftn(x, c10::nullopt, std::vector<int64_t>{2, 3}, "forward")
                     .index_select(2, row_idx)
                     .narrow(3, 0, n_cols);
    const auto W = torch::view_as_complex(weight.index_select(2, torch::tensor(weight_rows)).narrow(3, 0, n_cols).contiguous());
    const auto Y = torch::einsum("bixy,ioxy->boxy", {X, W});
    auto full = torch::zeros({x.size(0), W.size(1), n1, n2 / 2 + 1}, Y.options());
    full.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), row_idx, torch::indexing::Slice(0, n_cols)},
                    Y);
    return torch::fft::irfftn(full, std::vector<int64_t>{n1, n2}, std::vector<int64_t>{2, 3}, "forward");
  }
} // namespace

TEST(SpectralConv, BackwardMatchesLibTorchAutogradWithNyquistAndOddAxes)
{
  torch::manual_seed(13);
  for (const auto &[grid, modes] : std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>{
         {{8, 6}, {8, 6}}, {{8, 7}, {8, 8}}, {{9, 10}, {9, 10}}, {{12, 16}, {6, 8}}})
    {
      SpectralConv conv(SpectralConvOptions(2, 3, modes).bias(false));
      auto         x = torch::randn({2, 2, grid[0], grid[1]}).requires_grad_(true);
      const auto   r = torch::randn({2, 3, grid[0], grid[1]});
      (conv->forward(x) * r).sum().backward();
      const auto gx = x.grad().clone(), gw = conv->weight.grad().clone();
      x.grad().zero_();
      conv->weight.grad().zero_();
      const auto expected = reference_2d(x, conv->weight, modes);
      EXPECT_LT((expected - conv->forward(x)).abs().max().item<double>(), 1e-5);
      (expected * r).sum().backward();
      EXPECT_LT((x.grad() - gx).abs().max().item<double>(), 1e-5 * std::max(1., gx.abs().max().item<double>()))
        << "grid " << torch::IntArrayRef(grid);
      EXPECT_LT((conv->weight.grad() - gw).abs().max().item<double>(),
                1e-5 * std::max(1., gw.abs().max().item<double>()))
        << "grid " << torch::IntArrayRef(grid);
    }
}

TEST(SpectralConv, ReducedContractionWithinBound)
{
  torch::manual_seed(5);
  const auto x = torch::randn({10, 4, 16}, torch::kComplexFloat);
  const auto w = torch::randn({10, 16, 8}, torch::kComplexFloat);
  const auto reference = torch::bmm(x.to(torch::kComplexDouble), w.to(torch::kComplexDouble));
  const auto full      = contract_modes(x, w, torch::kFloat).to(torch::kComplexDouble);
  const auto reduced   = contract_modes(x, w, torch::kBFloat16).to(torch::kComplexDouble);
  const double scale   = reference.abs().max().item<double>();
  EXPECT_LT((full - reference).abs().max().item<double>(), 1e-5 * scale);
  // bfloat16 operands (unit roundoff 2^-8) with float32 accumulation over 16 terms.
  const double rel = ((reduced - reference).abs().pow(2).sum() / reference.abs().pow(2).sum()).sqrt().item<double>();
  EXPECT_LT(rel, 1e-2);
  EXPECT_GT(rel, 1e-5); // it really ran in bfloat16
}

TEST(SpectralConv, BadInputsAreRejected)
{
  SpectralConv conv(SpectralConvOptions(2, 2, {4, 4}));
  EXPECT_THROW(conv->forward(torch::randn({1, 2, 8})), std::invalid_argument);
  EXPECT_THROW(conv->forward(torch::randn({1, 3, 8, 8})), std::invalid_argument);
  EXPECT_THROW(conv->forward(torch::randn({1, 2, 8, 8}), {16}), std::invalid_argument);
  EXPECT_THROW(SpectralConv(SpectralConvOptions(2, 2, {4, 4, 4, 4})), std::invalid_argument);
  EXPECT_THROW(SpectralConv(SpectralConvOptions(2, 2, {0, 4})), std::invalid_argument);
}
