// Factorized spectral convolutions (TFNO): the factorized contraction against the
// reconstructed dense one in float32 and bfloat16, gradients to the factors, and the
// FNO configuration with a factorization.
#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/spectral_conv.h>

#include "finite_difference.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <sstream>
#include <stdexcept>

using namespace mpno;

namespace
{
  double
  relative_error(const torch::Tensor &a, const torch::Tensor &b)
  {
    return ((a - b).norm() / b.norm()).item<double>();
  }

  /** A factorized and a reconstructed layer with the same factors, and a dense layer
   *  holding their reconstruction. */
  struct Layers
  {
    SpectralConv factorized{nullptr}, reconstructed{nullptr}, dense{nullptr};
  };

  Layers
  make_layers(const std::string                      &factorization,
              const std::vector<int64_t>             &n_modes,
              const std::shared_ptr<PrecisionPolicy> &policy)
  {
    const auto         options = SpectralConvOptions(6, 5, n_modes).factorization(factorization).rank(0.3);
    Layers             layers{SpectralConv(options, policy),
                  SpectralConv(SpectralConvOptions(options).implementation("reconstructed"), policy),
                  SpectralConv(SpectralConvOptions(6, 5, n_modes), policy)};
    torch::NoGradGuard no_grad;
    for (std::size_t f = 0; f < layers.factorized->factors.size(); ++f)
      layers.reconstructed->factors[f].copy_(layers.factorized->factors[f]);
    layers.dense->weight.copy_(layers.factorized->dense_weight());
    layers.factorized->bias.normal_();
    layers.reconstructed->bias.copy_(layers.factorized->bias);
    layers.dense->bias.copy_(layers.factorized->bias);
    return layers;
  }
} // namespace

TEST(TFNO, FactorizedEqualsReconstructedInFloat32AndBfloat16)
{
  torch::set_num_threads(1);
  torch::manual_seed(5);
  const std::vector<std::vector<int64_t>> modes = {{6}, {6, 8}, {4, 4, 6}};
  const std::vector<std::vector<int64_t>> grids = {{16}, {12, 16}, {8, 8, 12}};
  for (const std::string factorization : {"tucker", "cp", "tt"})
    for (std::size_t c = 0; c < modes.size(); ++c)
      {
        auto   policy = std::make_shared<PrecisionPolicy>();
        Layers layers = make_layers(factorization, modes[c], policy);
        auto   shape  = std::vector<int64_t>{3, 6};
        shape.insert(shape.end(), grids[c].begin(), grids[c].end());
        const auto x = torch::randn(shape);

        torch::NoGradGuard no_grad;
        const auto         dense = layers.dense->forward(x);
        const std::string  what  = factorization + " d=" + std::to_string(modes[c].size());
        EXPECT_LT(relative_error(layers.factorized->forward(x), dense), 1e-5) << what;
        EXPECT_LT(relative_error(layers.reconstructed->forward(x), dense), 1e-5) << what;

        // bfloat16 contraction (mixed): within 2e-2 of the float32 result, and of each other.
        policy->spectral_precision       = SpectralPrecision::mixed;
        const auto reduced_factorized    = layers.factorized->forward(x);
        const auto reduced_reconstructed = layers.reconstructed->forward(x);
        EXPECT_LT(relative_error(reduced_factorized, dense), 2e-2) << what;
        EXPECT_LT(relative_error(reduced_reconstructed, dense), 2e-2) << what;
        EXPECT_LT(relative_error(reduced_factorized, reduced_reconstructed), 2e-2) << what;
      }
}

TEST(TFNO, CoarseGridsUseTheKeptModesOfTheFactors)
{
  torch::set_num_threads(1);
  torch::manual_seed(6);
  auto               policy = std::make_shared<PrecisionPolicy>();
  Layers             layers = make_layers("tucker", {8, 8}, policy);
  const auto         x      = torch::randn({2, 6, 6, 5}); // resolves fewer modes than stored
  torch::NoGradGuard no_grad;
  const auto         dense = layers.dense->forward(x, {12, 10});
  EXPECT_LT(relative_error(layers.factorized->forward(x, {12, 10}), dense), 1e-5);
  EXPECT_LT(relative_error(layers.reconstructed->forward(x, {12, 10}), dense), 1e-5);
}

TEST(TFNO, GradientsReachTheFactors)
{
  torch::set_num_threads(1);
  torch::manual_seed(7);
  for (const std::string implementation : {"factorized", "reconstructed"})
    for (const std::string factorization : {"tucker", "cp", "tt"})
      {
        SpectralConv conv(
          SpectralConvOptions(3, 2, {4, 4}).factorization(factorization).rank(0.5).implementation(implementation));
        const auto x       = torch::randn({2, 3, 8, 6});
        const auto r       = torch::randn({2, 2, 8, 6});
        auto       loss_of = [&]() { return (conv->forward(x).pow(2) * r).sum(); };
        loss_of().backward();
        torch::NoGradGuard no_grad;
        for (std::size_t f = 0; f < conv->factors.size(); ++f)
          {
            ASSERT_TRUE(conv->factors[f].grad().defined()) << factorization << " factor " << f;
            const auto   grad = conv->factors[f].grad().clone();
            const double fd   = test::central_difference(conv->factors[f], 1, 1e-2, loss_of);
            const double ad   = grad.view({-1})[1].item<double>();
            EXPECT_NEAR(ad, fd, 2e-2 * std::max(1., std::abs(fd)))
              << factorization << " " << implementation << " factor " << f;
          }
      }
}

TEST(TFNO, OptionsRoundTripAndParameterCounts)
{
  FNOOptions dense;
  dense.n_modes = {8, 8};
  // A dense configuration is written as before factorizations existed.
  EXPECT_EQ(dense.to_text().find("factorization"), std::string::npos);
  EXPECT_EQ(FNOOptions::from_text(dense.to_text()).to_text(), dense.to_text());

  FNOOptions tucker      = dense;
  tucker.factorization   = "tucker";
  tucker.rank            = 0.05;
  tucker.implementation  = "reconstructed";
  const std::string text = tucker.to_text();
  EXPECT_NE(text.find("factorization = tucker"), std::string::npos);
  const FNOOptions back = FNOOptions::from_text(text);
  EXPECT_EQ(back.factorization, "tucker");
  EXPECT_EQ(back.rank, 0.05);
  EXPECT_EQ(back.implementation, "reconstructed");
  EXPECT_EQ(back.to_text(), text);

  const FNO dense_model(dense);
  const FNO tucker_model(tucker);
  EXPECT_EQ(dense_model->model_name(), "fno");
  EXPECT_EQ(tucker_model->model_name(), "tfno");
  // Per layer: the Tucker factors of the complex [64, 64, 8, 5] weight, real and imaginary.
  const auto r       = tucker_ranks({64, 64, 8, 5}, 0.05);
  int64_t    complex = r[0] * r[1] * r[2] * r[3] + 64 * r[0] + 64 * r[1] + 8 * r[2] + 5 * r[3];
  EXPECT_EQ(tucker_model->n_spectral_parameters(), 4 * 2 * complex);
  EXPECT_EQ(dense_model->n_spectral_parameters(), 4 * 2 * 64 * 64 * 8 * 5);

  auto rebuilt = make_neural_operator("tfno", text, PrecisionPolicy{});
  EXPECT_EQ(rebuilt->model_name(), "tfno");
  EXPECT_EQ(rebuilt->config_text(), text);
  EXPECT_THROW(make_neural_operator("tfno", dense.to_text(), PrecisionPolicy{}), std::invalid_argument);

  for (const auto &[key, value] : std::vector<std::pair<std::string, std::string>>{{"factorization", "svd"},
                                                                                   {"rank", "0"},
                                                                                   {"rank", "-0.1"},
                                                                                   {"implementation", "lazy"}})
    {
      try
        {
          FNOOptions::from_text(dense.to_text() + key + " = " + value + "\n");
          ADD_FAILURE() << key << " = " << value << " accepted";
        }
      catch (const std::invalid_argument &error)
        {
          EXPECT_NE(std::string(error.what()).find(key), std::string::npos) << error.what();
        }
    }
}

TEST(TFNO, SaveAndLoadThroughTheModelNameGiveIdenticalOutputs)
{
  torch::set_num_threads(1);
  torch::manual_seed(8);
  FNOOptions options;
  options.n_modes         = {4, 6};
  options.in_channels     = 2;
  options.hidden_channels = 8;
  options.n_layers        = 2;
  options.factorization   = "tt";
  options.rank            = 0.3;
  FNO model(options);

  std::stringstream buffer;
  torch::save(model, buffer);
  torch::manual_seed(99); // different initial factors
  auto rebuilt = make_neural_operator(model->model_name(), model->config_text(), PrecisionPolicy{});
  auto x       = torch::randn({2, 2, 12, 12});
  EXPECT_GT((rebuilt->forward(x) - model->forward(x)).abs().max().item<double>(), 1e-4);
  torch::serialize::InputArchive archive;
  archive.load_from(buffer);
  rebuilt->load(archive);
  EXPECT_TRUE(torch::equal(rebuilt->forward(x), model->forward(x)));
}
