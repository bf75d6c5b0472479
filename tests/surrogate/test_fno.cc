// The FNO model: shapes in 1-3 D, configuration round trip, save/load, precision
// modes against full precision on a fixed model, refused combinations, gradients.
#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/fno.h>

#include "finite_difference.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

using namespace mpno;

namespace
{
  FNOOptions
  small_options(std::vector<int64_t> n_modes)
  {
    FNOOptions options;
    options.n_modes         = std::move(n_modes);
    options.in_channels     = 2;
    options.out_channels    = 3;
    options.hidden_channels = 8;
    options.n_layers        = 2;
    return options;
  }

  double
  relative_l2(const torch::Tensor &a, const torch::Tensor &b)
  {
    return ((a - b).norm() / b.norm()).item<double>();
  }

  /** A fixed model at the Darcy-16 configuration of the issue and 8 real test inputs. */
  struct DarcyFixture
  {
    DarcyFixture()
    {
      torch::manual_seed(0);
      torch::set_num_threads(1);
      FNOOptions options;
      options.n_modes         = {8, 8};
      options.hidden_channels = 32;
      model                   = std::make_shared<FNOImpl>(options);
      x                       = load_pt_dataset(std::string(MPNO_DATA_DIR) + "/darcy_test_16.pt").x.narrow(0, 0, 8);
    }
    torch::Tensor
    predict(const PrecisionPolicy &policy)
    {
      torch::NoGradGuard no_grad;
      model->set_precision(policy);
      return model->forward(x);
    }
    std::shared_ptr<FNOImpl> model;
    torch::Tensor            x;
  };
} // namespace

TEST(FNO, ShapesInOneTwoThreeDimensions)
{
  torch::manual_seed(1);
  for (const auto &[modes, grid] :
       std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>{{{6}, {20}},
                                                                          {{6, 6}, {12, 10}},
                                                                          {{4, 4, 4}, {8, 8, 6}}})
    {
      FNO                  model(small_options(modes));
      std::vector<int64_t> shape = {2, 2};
      shape.insert(shape.end(), grid.begin(), grid.end());
      const auto y = model->forward(torch::randn(shape));
      shape[1]     = 3;
      EXPECT_EQ(y.sizes().vec(), shape);
      EXPECT_EQ(y.scalar_type(), torch::kFloat);
      // any resolution
      shape[1] = 2;
      for (auto &n : shape)
        if (&n - shape.data() >= 2)
          n *= 2;
      EXPECT_EQ(model->forward(torch::randn(shape)).size(-1), grid.back() * 2);
    }
  FNO model(small_options({6, 6}));
  EXPECT_THROW(model->forward(torch::randn({2, 3, 8, 8})), std::invalid_argument);
  EXPECT_THROW(model->forward(torch::randn({2, 2, 8})), std::invalid_argument);
}

TEST(FNO, VariantsRun)
{
  torch::manual_seed(2);
  auto options                 = small_options({4, 4});
  options.norm                 = "group_norm";
  options.fno_skip             = "soft-gating";
  options.channel_mlp_skip     = "identity";
  options.positional_embedding = "none";
  options.domain_padding       = 0.25;
  for (const std::string mode : {"one-sided", "symmetric"})
    {
      options.domain_padding_mode = mode;
      FNO        model(options);
      const auto y = model->forward(torch::randn({2, 2, 12, 8}));
      EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 3, 12, 8}));
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  // Domain padding changes what the spectral layers see. With the same total padding,
  // "symmetric" is a circular shift of "one-sided", and every layer is shift-equivariant
  // on the periodic padded grid: after unpadding both give the same output (here with
  // an odd split, 1 + 2 of 3 cells, on the first axis).
  const auto input  = torch::randn({2, 2, 12, 8});
  auto       output = [&](const double padding, const std::string &mode) {
    auto o                = options;
    o.domain_padding      = padding;
    o.domain_padding_mode = mode;
    torch::manual_seed(5);
    return FNO(o)->forward(input);
  };
  const auto none = output(0., "one-sided"), one_sided = output(0.25, "one-sided"),
             symmetric = output(0.25, "symmetric");
  EXPECT_GT((one_sided - none).abs().max().item<double>(), 1e-4);
  EXPECT_LT((symmetric - one_sided).abs().max().item<double>(), 1e-5);

  // Parameters per block: soft-gating one per channel, linear a matrix, identity none.
  const auto skip_parameters = [](const std::string &kind) {
    auto o     = small_options({4, 4});
    o.fno_skip = kind;
    int64_t n  = 0;
    for (const auto &p : FNO(o)->named_parameters())
      if (p.key().find("fno_skips") != std::string::npos)
        n += p.value().numel();
    return n;
  };
  EXPECT_EQ(skip_parameters("soft-gating"), 2 * 8);
  EXPECT_EQ(skip_parameters("linear"), 2 * 8 * 8);
  EXPECT_EQ(skip_parameters("identity"), 0);
  // Spectral weights: n_layers x in x out x m_1 x (m_2/2+1) complex = 2 reals each.
  EXPECT_EQ(FNO(small_options({4, 6}))->n_spectral_parameters(), 2 * 8 * 8 * 4 * 4 * 2);
  options.domain_padding = 1.5;
  EXPECT_THROW(FNO{options}, std::invalid_argument);
  options.domain_padding = 0;
  options.norm           = "batch_norm";
  EXPECT_THROW(FNO{options}, std::invalid_argument);
}

TEST(FNO, ConfigurationRoundTripAndSaveLoadGiveIdenticalOutputs)
{
  torch::manual_seed(3);
  auto options           = small_options({5, 6});
  options.domain_padding = 0.125;
  options.norm           = "group_norm";
  FNO        model(options);
  const auto text = model->config_text();
  EXPECT_EQ(FNOOptions::from_text(text).to_text(), text);

  std::stringstream buffer;
  torch::save(model, buffer);
  torch::manual_seed(99); // different initial weights
  auto rebuilt = make_neural_operator("fno", text, PrecisionPolicy{});
  auto x       = torch::randn({2, 2, 12, 12});
  EXPECT_GT((rebuilt->forward(x) - model->forward(x)).abs().max().item<double>(), 1e-3);
  torch::serialize::InputArchive archive;
  archive.load_from(buffer);
  rebuilt->load(archive);
  EXPECT_TRUE(torch::equal(rebuilt->forward(x), model->forward(x)));

  EXPECT_THROW(make_neural_operator("gno", text, PrecisionPolicy{}), std::invalid_argument);
  EXPECT_THROW(FNOOptions::from_text("hidden_channels = many"), std::invalid_argument);
  EXPECT_THROW(FNOOptions::from_text("colour = blue"), std::invalid_argument);
  EXPECT_THROW(FNOOptions::from_text("n_modes = 8abc, 8\n"), std::invalid_argument);
  EXPECT_THROW(FNOOptions::from_text("n_modes = 8, 8\nin_channels = 1\n"), std::invalid_argument); // missing keys
}

TEST(FNO, ReducedPrecisionStaysWithinBoundOfFull)
{
  DarcyFixture f;
  const auto   full = f.predict(PrecisionPolicy{});

  PrecisionPolicy mixed;
  mixed.spectral_precision = SpectralPrecision::mixed;
  const double mixed_error = relative_l2(f.predict(mixed), full);

  PrecisionPolicy half    = mixed;
  half.spectral_precision = SpectralPrecision::half;
  const double half_error = relative_l2(f.predict(half), full);

  PrecisionPolicy autocast    = mixed;
  autocast.autocast           = true;
  const double autocast_error = relative_l2(f.predict(autocast), full);

  // Measured on this model: 9e-5, 1e-4 and 3.4e-3. The spectral branch is a small part
  // of an untrained FNO's output, the skips and MLPs a large one, hence autocast's share.
  EXPECT_LT(mixed_error, 1e-3);
  EXPECT_LT(half_error, 1e-3);
  EXPECT_LT(autocast_error, 1.5e-2);
  EXPECT_GT(autocast_error, mixed_error);

  // One Fourier layer alone: the reduced modes must really round (error well above
  // float32's 6e-8) and stay within a few bfloat16 unit roundoffs (2^-9 = 2e-3). The
  // input is not representable in bfloat16 (unlike the binary Darcy coefficient), so
  // half's rounding of the FFT input adds to mixed's error.
  auto               policy = std::make_shared<PrecisionPolicy>();
  SpectralConv       conv(SpectralConvOptions(4, 4, {8, 8}), policy);
  torch::NoGradGuard no_grad;
  const auto         input     = torch::randn({8, 4, 16, 16});
  const auto         reference = conv->forward(input);
  *policy                      = mixed;
  const double layer_mixed     = relative_l2(conv->forward(input), reference);
  *policy                      = half;
  const double layer_half      = relative_l2(conv->forward(input), reference);
  EXPECT_GT(layer_mixed, 1e-4);
  EXPECT_LT(layer_mixed, 1e-2);
  EXPECT_GT(layer_half, layer_mixed);
  EXPECT_LT(layer_half, 1.5e-2);
  std::cout << "relative error vs full: FNO mixed " << mixed_error << ", half " << half_error << ", mixed + autocast "
            << autocast_error << "; one layer mixed " << layer_mixed << ", half " << layer_half << std::endl;
}

TEST(FNO, UnsupportedCombinationsAreRefusedWithTheReason)
{
  PrecisionPolicy policy;
  policy.spectral_precision = SpectralPrecision::mixed;
  policy.reduced_type       = ReducedType::float16;
  try
    {
      policy.check_supported(torch::kCPU, {16, 16});
      FAIL() << "float16 contraction on CPU accepted";
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("float16"), std::string::npos);
    }
  policy.spectral_precision = SpectralPrecision::half;
  policy.reduced_type       = ReducedType::automatic;
  const torch::Device cuda(torch::kCUDA);
  EXPECT_NO_THROW(policy.check_supported(cuda, {64, 128}));
  try
    {
      policy.check_supported(cuda, {64, 100});
      FAIL() << "half cuFFT on a non-power-of-two grid accepted";
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("power-of-two"), std::string::npos);
      EXPECT_NE(std::string(error.what()).find("64 x 100"), std::string::npos);
    }
  policy.reduced_type = ReducedType::bfloat16;
  EXPECT_THROW(policy.check_supported(cuda, {64, 64}), std::invalid_argument);
  EXPECT_NE(PrecisionPolicy{policy}.describe(torch::kCPU).find("EMULATED"), std::string::npos);

  // A model refuses at the first forward call.
  DarcyFixture    f;
  PrecisionPolicy bad;
  bad.spectral_precision = SpectralPrecision::mixed;
  bad.reduced_type       = ReducedType::float16;
  EXPECT_THROW(f.predict(bad), std::invalid_argument);
}

TEST(FNO, NativeReducedProductsFollowTheDeviceAndTheCpuFlags)
{
  // float32 everywhere; float16 never on CPU; both reduced types on CUDA.
  EXPECT_TRUE(native_reduced_products(torch::kCPU, torch::kFloat));
  EXPECT_FALSE(native_reduced_products(torch::kCPU, torch::kHalf));
  EXPECT_TRUE(native_reduced_products(torch::Device(torch::kCUDA), torch::kHalf));
  EXPECT_TRUE(native_reduced_products(torch::Device(torch::kCUDA), torch::kBFloat16));
  // CPU bfloat16: as this machine's flags say.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string   line, flags;
  while (flags.empty() && std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0)
      flags = line + " ";
  const bool expected =
    flags.find(" avx512_bf16 ") != std::string::npos || flags.find(" amx_bf16 ") != std::string::npos;
  EXPECT_EQ(native_reduced_products(torch::kCPU, torch::kBFloat16), expected) << flags;
}

TEST(FNO, PrecisionIsRaisedStepByStep)
{
  PrecisionPolicy policy;
  policy.spectral_precision = SpectralPrecision::half;
  policy.autocast           = true;
  policy                    = policy.raised();
  EXPECT_EQ(policy.spectral_precision, SpectralPrecision::mixed);
  policy = policy.raised();
  EXPECT_EQ(policy.spectral_precision, SpectralPrecision::full);
  EXPECT_TRUE(policy.autocast);
  policy = policy.raised();
  EXPECT_FALSE(policy.autocast);
}

TEST(FNO, GradientsMatchFiniteDifferences)
{
  torch::manual_seed(4);
  torch::set_num_threads(1);
  auto options = small_options({4, 4});
  options.norm = "group_norm";
  FNO        model(options);
  const auto x       = torch::randn({2, 2, 8, 8});
  const auto r       = torch::randn({2, 3, 8, 8});
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
