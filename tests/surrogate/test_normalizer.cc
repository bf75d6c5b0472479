// UnitGaussianNormalizer (normalizer.h): statistics against a direct float64 computation,
// encode/decode round trip, archive round trip, errors.
#include <mpno/surrogate/normalizer.h>

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <sstream>

namespace
{
  /** [20, 3, 8, 8] with channel means (0, 5, -3) and standard deviations (1, 10, 0.01). */
  torch::Tensor
  three_channel_data()
  {
    torch::manual_seed(7);
    return torch::randn({20, 3, 8, 8}) * torch::tensor({1.f, 10.f, 0.01f}).view({1, 3, 1, 1}) +
           torch::tensor({0.f, 5.f, -3.f}).view({1, 3, 1, 1});
  }

  /** [channels, samples * n_1 * ... * n_d] in float64. */
  torch::Tensor
  per_channel(const torch::Tensor &x)
  {
    return x.transpose(0, 1).reshape({x.size(1), -1}).to(torch::kFloat64);
  }
} // namespace

TEST(UnitGaussianNormalizer, StatisticsPerChannelOverBatchAndSpace)
{
  const auto                   x = three_channel_data();
  mpno::UnitGaussianNormalizer normalizer;
  EXPECT_FALSE(normalizer.fitted());
  normalizer.fit(x);
  ASSERT_TRUE(normalizer.fitted());
  EXPECT_EQ(normalizer.mean().sizes(), torch::IntArrayRef({1, 3, 1, 1}));
  EXPECT_EQ(normalizer.std().sizes(), torch::IntArrayRef({1, 3, 1, 1}));
  EXPECT_EQ(normalizer.mean().scalar_type(), torch::kFloat32);

  // Population (biased) standard deviation, as neuraloperator's fit.
  const auto values = per_channel(x);
  const auto mean   = values.mean(1);
  const auto std    = (values - mean.unsqueeze(1)).pow(2).mean(1).sqrt();
  EXPECT_TRUE(torch::allclose(normalizer.mean().flatten().to(torch::kFloat64), mean, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(normalizer.std().flatten().to(torch::kFloat64), std, 1e-6, 0.));
  EXPECT_NEAR(normalizer.std()[0][1].item<double>(), 10., 1.); // the data are as intended

  // Channel 2 (mean -3, std 0.01): float32 rounding of -3 is 1.2e-7, i.e. 1.2e-5 std.
  const auto encoded = per_channel(normalizer.encode(x));
  for (int64_t c = 0; c < 3; ++c)
    {
      EXPECT_NEAR(encoded[c].mean().item<double>(), 0., 5e-5) << "channel " << c;
      EXPECT_NEAR(encoded[c].std(false).item<double>(), 1., 1e-4) << "channel " << c;
    }
}

TEST(UnitGaussianNormalizer, DecodeInvertsEncodeOnAnyGrid)
{
  mpno::UnitGaussianNormalizer normalizer;
  normalizer.fit(three_channel_data());
  torch::manual_seed(8);
  const auto x = torch::randn({2, 3, 16, 16}) * 4 + 1; // another resolution
  EXPECT_TRUE(torch::allclose(normalizer.decode(normalizer.encode(x)), x, 1e-5, 1e-5));
  // decode(z) in channel 2 is -3 + 0.01 z, stored to 2.4e-7: z comes back to ~2.4e-5.
  const auto z = torch::randn({2, 3, 5, 7});
  EXPECT_TRUE(torch::allclose(normalizer.encode(normalizer.decode(z)), z, 0., 1e-4));
}

TEST(UnitGaussianNormalizer, ArchiveRoundTripIsExact)
{
  mpno::UnitGaussianNormalizer saved(1e-3);
  saved.fit(three_channel_data());
  torch::serialize::OutputArchive out;
  saved.save(out, "normalizer.x");
  std::stringstream stream;
  out.save_to(stream);

  torch::serialize::InputArchive in;
  in.load_from(stream);
  mpno::UnitGaussianNormalizer loaded(0.5); // eps must come from the archive
  loaded.load(in, "normalizer.x");
  EXPECT_TRUE(torch::equal(loaded.mean(), saved.mean()));
  EXPECT_TRUE(torch::equal(loaded.std(), saved.std()));
  const auto x = three_channel_data();
  EXPECT_TRUE(torch::equal(loaded.encode(x), saved.encode(x)));

  mpno::UnitGaussianNormalizer other;
  try
    {
      other.load(in, "normalizer.y");
      ADD_FAILURE() << "no exception thrown";
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("'normalizer.y.mean'"), std::string::npos) << error.what();
    }
  EXPECT_FALSE(other.fitted());
}

TEST(UnitGaussianNormalizer, Errors)
{
  mpno::UnitGaussianNormalizer normalizer;
  const auto                   x = torch::randn({4, 2, 8});
  EXPECT_THROW(normalizer.encode(x), std::logic_error);
  EXPECT_THROW(normalizer.decode(x), std::logic_error);
  torch::serialize::OutputArchive archive;
  EXPECT_THROW(normalizer.save(archive, "n"), std::logic_error);

  EXPECT_THROW(normalizer.fit(torch::randn({4, 8})), std::invalid_argument);    // rank 2
  EXPECT_THROW(normalizer.fit(torch::randn({0, 2, 8})), std::invalid_argument); // empty
  EXPECT_FALSE(normalizer.fitted());

  normalizer.fit(x);
  EXPECT_THROW(normalizer.encode(torch::randn({4, 3, 8})), std::invalid_argument);    // channels
  EXPECT_THROW(normalizer.decode(torch::randn({4, 3, 8})), std::invalid_argument);    // channels
  EXPECT_THROW(normalizer.encode(torch::randn({4, 2, 8, 8})), std::invalid_argument); // rank
}

TEST(UnitGaussianNormalizer, ToMovesTheStatisticsAndSaveWritesCpuTensors)
{
  mpno::UnitGaussianNormalizer normalizer;
  normalizer.to(torch::kCPU); // not fitted: nothing to move, no error
  EXPECT_FALSE(normalizer.fitted());
  normalizer.fit(three_channel_data());
  const torch::Tensor mean   = normalizer.mean().clone();
  const torch::Device device = torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  normalizer.to(device);
  EXPECT_EQ(normalizer.mean().device(), device);
  EXPECT_EQ(normalizer.std().device(), device);

  torch::serialize::OutputArchive out;
  normalizer.save(out, "n");
  std::stringstream stream;
  out.save_to(stream);
  torch::serialize::InputArchive in;
  in.load_from(stream);
  torch::Tensor stored;
  ASSERT_TRUE(in.try_read("n.mean", stored));
  EXPECT_TRUE(stored.device().is_cpu());
  EXPECT_TRUE(torch::equal(stored, mean));
}
