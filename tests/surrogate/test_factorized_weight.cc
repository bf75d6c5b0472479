// Float ranks of the factorizations (method.md Sec. 2.2), the initial variance of the
// reconstructed weights, and the complex contraction by four or three (Gauss) real products.
#include <mpno/surrogate/factorized_weight.h>
#include <mpno/surrogate/spectral_conv.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

using namespace mpno;

TEST(FactorizedWeight, TuckerRanksOfMethodMd)
{
  EXPECT_EQ(tucker_ranks({64, 64, 32, 32}, 0.05), (std::vector<int64_t>{30, 30, 15, 15}));
  EXPECT_EQ(tucker_ranks({64, 64, 64, 33}, 0.05), (std::vector<int64_t>{30, 30, 30, 16}));
  EXPECT_EQ(tucker_ranks({4, 4, 2}, 1e-6), (std::vector<int64_t>{1, 1, 1}));
}

TEST(FactorizedWeight, CPRanksOfMethodMd)
{
  EXPECT_EQ(cp_rank({64, 64, 32, 32}, 0.05), 1092);
  EXPECT_EQ(cp_rank({64, 64, 64, 33}, 0.05), 1922);
  EXPECT_THROW(cp_rank({4, 4}, 0.), std::invalid_argument);
  EXPECT_THROW(tucker_ranks({4, 4}, -1.), std::invalid_argument);
}

TEST(FactorizedWeight, TTRankHoldsTheRequestedFraction)
{
  // P(r) = (I_1 + I_N) r + S r^2 with S = the middle sizes: the chosen r is the integer
  // nearest the root of P(r) = rank prod(I).
  const std::vector<int64_t> shape = {64, 64, 32, 17};
  const double               prod = 64. * 64 * 32 * 17, S = 64 + 32;
  const auto                 count = [&](double r) { return (64 + 17) * r + S * r * r; };
  const int64_t              r     = tt_rank(shape, 0.05);
  EXPECT_LE(count(r - 0.5), 0.05 * prod);
  EXPECT_GE(count(r + 0.5), 0.05 * prod);
  EXPECT_EQ(r, 34); // 81 r + 96 r^2 = 111411 -> r = 33.65
  EXPECT_THROW(tt_rank({4, 4}, 0.5), std::invalid_argument);
}

TEST(FactorizedWeight, ParameterCountsFollowTheRanks)
{
  const std::vector<int64_t> shape = {64, 64, 32, 17};
  const double               dense = 64. * 64 * 32 * 17;
  for (const auto factorization : {Factorization::tucker, Factorization::cp, Factorization::tt})
    {
      double n = 0.;
      for (const auto &factor : weight_factors(factorization, shape, 0.05, 1.))
        {
          double entries = 1.;
          for (const int64_t size : factor.shape)
            entries *= static_cast<double>(size);
          n += entries;
          EXPECT_EQ(factor.labels.size(), factor.shape.size()) << factor.name;
        }
      // About 5 % of the dense entries (integer ranks round).
      EXPECT_NEAR(n / dense, 0.05, 0.01) << factorization_name(factorization);
    }
  EXPECT_TRUE(weight_factors(Factorization::dense, shape, 0.05, 1.).empty());
  EXPECT_EQ(parse_factorization("tt"), Factorization::tt);
  EXPECT_THROW(parse_factorization("tensor-train"), std::invalid_argument);
}

TEST(FactorizedWeight, ReconstructedWeightsHaveTheDenseInitVariance)
{
  torch::set_num_threads(1);
  torch::manual_seed(3);
  const int64_t channels = 32;
  const double  dense    = 2. / (2. * channels); // E|w|^2 of the dense init
  for (const std::string factorization : {"dense", "tucker", "cp", "tt"})
    for (const double rank : {0.05, 0.5})
      {
        SpectralConv conv(SpectralConvOptions(channels, channels, {16, 16}).factorization(factorization).rank(rank));
        torch::NoGradGuard no_grad;
        const auto         w        = torch::view_as_complex(conv->dense_weight().contiguous());
        const double       variance = w.abs().pow(2).mean().item<double>();
        EXPECT_NEAR(variance / dense, 1., 0.2)
          << factorization << " rank " << rank << ": E|w|^2 = " << variance << ", dense init " << dense;
        EXPECT_LT(std::abs(w.mean().abs().item<double>()), 0.1 * std::sqrt(dense)) << factorization;
      }
}

TEST(FactorizedWeight, ComplexContractionFourAndGaussProductsMatchTheComplexEinsum)
{
  torch::set_num_threads(1);
  torch::manual_seed(11);
  // The 2D Tucker contraction of method.md Sec. 2.2 on a small case: x [b, i, k, l] with
  // core [p, q, r, s] and factors U_i [i, p], U_o [o, q], U_k [k, r], U_l [l, s].
  const auto complex = [](std::vector<int64_t> shape) { return torch::randn(shape, torch::kComplexFloat); };
  const std::vector<torch::Tensor> operands =
    {complex({3, 6, 5, 4}), complex({4, 3, 2, 2}), complex({6, 4}), complex({5, 3}), complex({5, 2}), complex({4, 2})};
  const std::vector<std::string> labels = {"bikl", "pqrs", "ip", "oq", "kr", "ls"};
  const torch::Tensor            exact  = torch::einsum("bikl,pqrs,ip,oq,kr,ls->bokl", operands);
  const auto                     error  = [&](const torch::Tensor &t) {
    return ((t - exact).abs().max() / exact.abs().max()).item<double>();
  };
  for (const ComplexProduct product : {ComplexProduct::four, ComplexProduct::gauss})
    {
      const std::string name = product == ComplexProduct::four ? "four" : "gauss";
      EXPECT_LT(error(contract_complex(operands, labels, "bokl", torch::kFloat, product)), 1e-5) << name;
      // bfloat16 (unit roundoff 2^-8 = 3.9e-3) over five pairwise steps: the stated
      // tolerance is 5 unit roundoffs, relative to the largest entry.
      const double reduced = error(contract_complex(operands, labels, "bokl", torch::kBFloat16, product));
      EXPECT_LT(reduced, 5 * std::ldexp(1., -8)) << name;
      EXPECT_GT(reduced, 1e-5) << name << ": the products were not rounded to bfloat16";
    }
}
