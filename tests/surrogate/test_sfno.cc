// SphericalConv (degree-wise multiplier on closed-form harmonics, resolution invariance,
// super-resolution, gradients) and the SFNO model (configuration and save/load, zero-shot
// on a twice finer grid, mixed and half against full on a fixed model, gradients).
#include <mpno/surrogate/sfno.h>
#include <mpno/surrogate/spherical_conv.h>

#include "finite_difference.h"
#include "trainer_test_utils.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <sstream>

using namespace mpno;

namespace
{
  double
  relative_l2(const torch::Tensor &a, const torch::Tensor &b)
  {
    return ((a - b).norm() / b.norm()).item<double>();
  }

  /** Colatitudes of @p grid with @p nlat points, float64 [nlat]. */
  torch::Tensor
  colatitudes(const SphereGrid grid, const int64_t nlat)
  {
    return torch::acos(torch::tensor(latitude_quadrature(grid, nlat).cos_theta, torch::kDouble));
  }

  /**
   * Two channels of a smooth field band-limited to degree 3, written with closed-form
   * harmonics: c0 = 3 cos^2 t - 1 + sin t cos t cos p (degrees 2 and 2),
   * c1 = sin^3 t sin 3p + 0.5 cos t (degrees 3 and 1); [1, 2, nlat, nlon] float32.
   */
  torch::Tensor
  band_limited(const SphereGrid grid, const int64_t nlat, const int64_t nlon)
  {
    const auto t  = colatitudes(grid, nlat).view({nlat, 1});
    const auto p  = (torch::arange(nlon, torch::kDouble) * (2. * M_PI / static_cast<double>(nlon))).view({1, nlon});
    const auto c0 = 3. * torch::cos(t).pow(2) - 1. + torch::sin(t) * torch::cos(t) * torch::cos(p);
    const auto c1 = torch::sin(t).pow(3) * torch::sin(3. * p) + 0.5 * torch::cos(t) * torch::ones_like(p);
    return torch::stack({c0, c1}).unsqueeze(0).to(torch::kFloat);
  }

  SFNOOptions
  small_options()
  {
    SFNOOptions options;
    options.n_modes         = {8, 16};
    options.in_channels     = 2;
    options.out_channels    = 3;
    options.hidden_channels = 8;
    options.n_layers        = 2;
    return options;
  }
} // namespace

TEST(SphericalConv, ActsOnEachDegreeByItsWeight)
{
  // With W[i, o, l] = delta_io g_l the layer multiplies every degree-l component by g_l:
  // Y_l^m (closed forms) goes to g_l Y_l^m whatever m, on both grids.
  torch::set_num_threads(1);
  for (const SphereGrid grid : {SphereGrid::equiangular, SphereGrid::legendre_gauss})
    {
      SphericalConv             conv(SphericalConvOptions(1, 1, {6, 12}).grid(grid).bias(false));
      const std::vector<double> g = {0.5, -1., 2., 0.25, 3., -0.75};
      {
        torch::NoGradGuard no_grad;
        conv->weight.zero_();
        for (int64_t l = 0; l < 6; ++l)
          conv->weight[0][0][l][0] = g[l];
      }
      const int64_t nlat = grid == SphereGrid::equiangular ? 13 : 8, nlon = 16;
      const auto    t = colatitudes(grid, nlat).view({nlat, 1});
      const auto    p = (torch::arange(nlon, torch::kDouble) * (2. * M_PI / static_cast<double>(nlon))).view({1, nlon});
      const auto    c = torch::cos(t), s = torch::sin(t);
      // Real parts of Y_l^m up to constants (constants do not matter: the map is linear).
      const std::vector<std::pair<int, torch::Tensor>> harmonics = {{0, torch::ones({nlat, nlon}, torch::kDouble)},
                                                                    {1, s * torch::cos(p)},
                                                                    {2, 3. * c * c - 1. + 0. * p},
                                                                    {2, s * s * torch::sin(2. * p)},
                                                                    {3, s * (5. * c * c - 1.) * torch::cos(p)},
                                                                    {4, s.pow(4) * torch::cos(4. * p)},
                                                                    {5, s.pow(5) * torch::sin(5. * p)}};
      for (const auto &[l, field] : harmonics)
        {
          const auto x = field.to(torch::kFloat).view({1, 1, nlat, nlon});
          const auto y = conv->forward(x);
          EXPECT_LT((y - g[l] * x).abs().max().item<double>(), 2e-5 * x.abs().max().item<double>())
            << to_string(grid) << " degree " << l;
        }
    }
}

TEST(SphericalConv, ResolutionInvarianceAndSuperResolution)
{
  torch::manual_seed(3);
  torch::set_num_threads(1);
  // Equiangular 17 x 32 points are every other point of 33 x 64.
  SphericalConv conv(SphericalConvOptions(2, 3, {8, 16}));
  {
    torch::NoGradGuard no_grad;
    conv->bias.uniform_(-1, 1);
  }
  const auto coarse         = conv->forward(band_limited(SphereGrid::equiangular, 17, 32));
  const auto fine           = conv->forward(band_limited(SphereGrid::equiangular, 33, 64));
  const auto fine_at_coarse = fine.index({torch::indexing::Slice(),
                                          torch::indexing::Slice(),
                                          torch::indexing::Slice(0, 33, 2),
                                          torch::indexing::Slice(0, 64, 2)});
  EXPECT_LT((fine_at_coarse - coarse).abs().max().item<double>(), 1e-5 * coarse.abs().max().item<double>());
  // Zero-shot super-resolution from 17 x 32 onto 33 x 64 gives the fine evaluation.
  const auto super = conv->forward(band_limited(SphereGrid::equiangular, 17, 32), {33, 64});
  EXPECT_EQ(super.sizes(), fine.sizes());
  EXPECT_LT((super - fine).abs().max().item<double>(), 1e-5 * fine.abs().max().item<double>());
  // Gauss grids share no points across resolutions: compare through the super-resolution.
  SphericalConv gauss_fine(SphericalConvOptions(2, 3, {8, 16}).grid(SphereGrid::legendre_gauss));
  const auto    gauss_super = gauss_fine->forward(band_limited(SphereGrid::legendre_gauss, 8, 16), {16, 32});
  const auto    gauss_ref   = gauss_fine->forward(band_limited(SphereGrid::legendre_gauss, 16, 32));
  EXPECT_LT((gauss_super - gauss_ref).abs().max().item<double>(), 1e-5 * gauss_ref.abs().max().item<double>());
  EXPECT_EQ(conv->kept_degrees(17, 32, 33, 64), 8);
  EXPECT_EQ(conv->kept_degrees(9, 32, 9, 32), 5); // (9 + 1) / 2 equiangular degrees
  EXPECT_THROW(conv->forward(torch::zeros({1, 3, 17, 32})), std::invalid_argument);
  EXPECT_THROW(SphericalConv(SphericalConvOptions(2, 3, {8})), std::invalid_argument);
}

TEST(SphericalConv, GradientsMatchFiniteDifferences)
{
  torch::manual_seed(11);
  torch::set_num_threads(1);
  auto policy        = std::make_shared<PrecisionPolicy>();
  policy->stabilizer = Stabilizer::tanh; // a nonlinear map, so the check is not trivial
  SphericalConv conv(SphericalConvOptions(2, 2, {6, 12}).grid(SphereGrid::legendre_gauss), policy);
  auto          x       = torch::randn({2, 2, 8, 16}, torch::requires_grad());
  const auto    r       = torch::randn({2, 2, 8, 16});
  auto          loss_of = [&] { return (conv->forward(x) * r).sum(); };
  loss_of().backward();

  torch::NoGradGuard no_grad;
  const double       eps = 1e-2;
  for (auto *tensor : {&conv->weight, &conv->bias, &x})
    {
      const auto grad = tensor->grad().view({-1});
      for (const int64_t index : {int64_t{0}, tensor->numel() / 2, tensor->numel() - 1})
        {
          const double fd = test::central_difference(*tensor, index, eps, loss_of);
          EXPECT_NEAR(grad[index].item<double>(), fd, 1e-2 * std::max(1., std::abs(fd))) << "entry " << index;
        }
    }
}

TEST(SFNO, ConfigurationRoundTripAndSaveLoadGiveIdenticalOutputs)
{
  torch::manual_seed(3);
  torch::set_num_threads(1);
  auto options = small_options();
  options.grid = "legendre-gauss";
  options.norm = "group_norm";
  SFNO       model(options);
  const auto text = model->config_text();
  EXPECT_EQ(SFNOOptions::from_text(text).to_text(), text);
  EXPECT_EQ(model->model_name(), "sfno");
  EXPECT_EQ(model->n_spectral_parameters(), 2 * 8 * 8 * 8 * 2);
  // neuraloperator's names.
  const auto parameters = model->named_parameters();
  EXPECT_TRUE(parameters.contains("fno_blocks.convs.0.weight"));
  EXPECT_TRUE(parameters.contains("fno_blocks.convs.1.bias"));
  EXPECT_TRUE(parameters.contains("lifting.fcs.0.weight"));
  EXPECT_TRUE(parameters.contains("projection.fcs.1.bias"));

  std::stringstream buffer;
  torch::save(model, buffer);
  torch::manual_seed(99); // different initial weights
  auto rebuilt = make_neural_operator("sfno", text, PrecisionPolicy{});
  auto x       = torch::randn({2, 2, 8, 16});
  EXPECT_GT((rebuilt->forward(x) - model->forward(x)).abs().max().item<double>(), 1e-3);
  torch::serialize::InputArchive archive;
  archive.load_from(buffer);
  rebuilt->load(archive);
  EXPECT_TRUE(torch::equal(rebuilt->forward(x), model->forward(x)));

  EXPECT_THROW(SFNOOptions::from_text("colour = blue"), std::invalid_argument);
  EXPECT_THROW(SFNOOptions::from_text("n_modes = 8, 16\nin_channels = 1\n"), std::invalid_argument); // missing keys
  auto bad    = small_options();
  bad.n_modes = {8, 8, 8};
  EXPECT_THROW(SFNO{bad}, std::invalid_argument);
  bad      = small_options();
  bad.grid = "healpix";
  EXPECT_THROW(SFNO{bad}, std::invalid_argument);
  EXPECT_THROW(model->forward(torch::zeros({1, 3, 8, 16})), std::invalid_argument);
}

TEST(SFNO, EvaluatesZeroShotOnATwiceFinerGrid)
{
  torch::manual_seed(5);
  torch::set_num_threads(1);
  auto               options = small_options();
  SFNO               model(options);
  torch::NoGradGuard no_grad;
  const auto         coarse = model->forward(band_limited(SphereGrid::equiangular, 17, 32));
  const auto         fine   = model->forward(band_limited(SphereGrid::equiangular, 33, 64));
  ASSERT_EQ(fine.sizes(), (std::vector<int64_t>{1, 3, 33, 64}));
  EXPECT_TRUE(torch::isfinite(fine).all().item<bool>());
  // The pointwise nonlinearities make the blocks' output not band-limited, so the two
  // evaluations differ at the shared points, but only by what the coarse grid misses.
  const auto   fine_at_coarse = fine.index({torch::indexing::Slice(),
                                            torch::indexing::Slice(),
                                            torch::indexing::Slice(0, 33, 2),
                                            torch::indexing::Slice(0, 64, 2)});
  const double difference     = relative_l2(fine_at_coarse, coarse);
  std::cout << "SFNO 17 x 32 vs 33 x 64 at the shared points: relative difference " << difference << std::endl;
  EXPECT_LT(difference, 5e-3); // measured 1.5e-4
}

TEST(SFNO, ReducedPrecisionStaysWithinBoundOfFull)
{
  torch::manual_seed(0);
  torch::set_num_threads(1);
  SFNOOptions options;
  options.n_modes         = {16, 32};
  options.hidden_channels = 16;
  options.in_channels     = 2;
  SFNO               model(options);
  torch::NoGradGuard no_grad;
  const auto         x =
    band_limited(SphereGrid::equiangular, 33, 64).repeat({4, 1, 1, 1}) + 0.1 * torch::randn({4, 2, 33, 64});
  const auto predict = [&](const PrecisionPolicy &policy) {
    model->set_precision(policy);
    return model->forward(x);
  };
  const auto      full = predict(PrecisionPolicy{});
  PrecisionPolicy mixed;
  mixed.spectral_precision    = SpectralPrecision::mixed;
  const double    mixed_error = relative_l2(predict(mixed), full);
  PrecisionPolicy half        = mixed;
  half.spectral_precision     = SpectralPrecision::half;
  const double half_error     = relative_l2(predict(half), full);

  // One spherical layer alone: the reduced type must really round (well above float32's
  // 6e-8) and stay within a few bfloat16 unit roundoffs (2^-9 = 2e-3).
  auto          policy = std::make_shared<PrecisionPolicy>();
  SphericalConv conv(SphericalConvOptions(4, 4, {16, 32}), policy);
  const auto    input      = torch::randn({4, 4, 33, 64});
  const auto    reference  = conv->forward(input);
  *policy                  = mixed;
  const double layer_mixed = relative_l2(conv->forward(input), reference);
  *policy                  = half;
  const double layer_half  = relative_l2(conv->forward(input), reference);
  std::cout << "relative error vs full: SFNO mixed " << mixed_error << ", half " << half_error
            << "; one spherical layer mixed " << layer_mixed << ", half " << layer_half << std::endl;
  EXPECT_GT(mixed_error, 1e-6);
  EXPECT_LT(mixed_error, 1e-3); // measured 1.2e-4 (half 1.6e-4; one layer 4.0e-3 and 4.9e-3)
  EXPECT_LT(half_error, 1e-3);
  EXPECT_GT(layer_mixed, 1e-4);
  EXPECT_LT(layer_mixed, 1e-2);
  EXPECT_GT(layer_half, layer_mixed);
  EXPECT_LT(layer_half, 1.5e-2);
}

TEST(SFNO, GradientsMatchFiniteDifferences)
{
  torch::manual_seed(4);
  torch::set_num_threads(1);
  auto options = small_options();
  options.norm = "group_norm";
  options.grid = "legendre-gauss";
  SFNO       model(options);
  const auto x       = torch::randn({2, 2, 8, 16});
  const auto r       = torch::randn({2, 3, 8, 16});
  auto       loss_of = [&] { return (model->forward(x) * r).sum(); };
  loss_of().backward();

  torch::NoGradGuard no_grad;
  const double       eps     = 1e-2;
  int                checked = 0;
  for (auto &named : model->named_parameters())
    {
      const auto    grad  = named.value().grad().view({-1});
      const int64_t index = named.value().numel() / 2;
      const double  fd    = test::central_difference(named.value(), index, eps, loss_of);
      EXPECT_NEAR(grad[index].item<double>(), fd, 2e-2 * std::max(1., std::abs(fd))) << named.key();
      ++checked;
    }
  EXPECT_GT(checked, 20);
}

TEST(SFNO, TrainerCheckpointRebuildsTheModelByName)
{
  // Synthetic data on a 9 x 16 equiangular grid: the target is a fixed smooth map of x.
  torch::manual_seed(2);
  torch::set_num_threads(1);
  mpno::TensorDataset data;
  data.x              = torch::randn({16, 1, 9, 16});
  data.y              = torch::tanh(data.x) + 0.5 * data.x.roll(1, 3);
  auto options        = small_options();
  options.in_channels = options.out_channels = 1;
  auto model                                 = make_neural_operator("sfno", options.to_text(), PrecisionPolicy{});

  mpno_test::ScratchDirectory out("sfno_checkpoint");
  mpno::Trainer               trainer(model, mpno_test::small_training(1), out.path);
  trainer.train(data, {{"9x16", data}});
  const mpno::LoadedModel loaded = mpno::load_model(out.path / "checkpoint");
  EXPECT_EQ(loaded.model->model_name(), "sfno");
  EXPECT_EQ(loaded.model->config_text(), model->config_text());
  EXPECT_TRUE(torch::equal(loaded.predict(data.x), trainer.predict(data.x)));
  // Zero-shot on a twice finer grid through the loaded model.
  EXPECT_EQ(loaded.predict(torch::randn({2, 1, 17, 32})).sizes(), (std::vector<int64_t>{2, 1, 17, 32}));
}
