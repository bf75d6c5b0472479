// The error-bound study (method.md Sec. 6.4) against the theory: the rates of the
// discretisation error, the size of the precision error, and the float64 reference layer
// against SpectralConv and a direct DFT.
#include <mpno/surrogate/error_bounds.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <memory>

using namespace mpno;
using namespace mpno::error_bounds;

namespace
{
  const torch::Device cpu(torch::kCPU);
  constexpr int64_t   modes = 8;
} // namespace

TEST(ErrorBounds, ExactCoefficientsMatchADirectDFTOnAFineGrid)
{
  // A direct float64 DFT on 2^16 points differs from c_k by its aliasing error: ~1e-16
  // (smooth), ~N^-2 = 2e-10 (lipschitz), <= 2/N = 3e-5 (step), far below the c_k themselves.
  const int64_t n = 1 << 16;
  const auto    x = torch::arange(n, torch::kDouble) / static_cast<double>(n);
  for (const auto &v : {smooth_function(), lipschitz_function(), step_function()})
    for (const auto &factor : v.factors)
      for (const int64_t k : {0, 1, -3, 8})
        {
          const auto   phase = torch::polar(torch::ones_like(x), -2. * M_PI * static_cast<double>(k) * x);
          const auto   dft   = (factor.value(x) * phase).mean();
          const auto   exact = factor.coefficient(k);
          const double error =
            std::abs(std::complex<double>(torch::real(dft).item<double>(), torch::imag(dft).item<double>()) - exact);
          EXPECT_LT(error, v.name == "smooth" ? 1e-12 : v.name == "lipschitz" ? 1e-9 : 1e-4) << v.name << " k = " << k;
        }
}

TEST(ErrorBounds, DiscretisationErrorRatesMatchTheTheory)
{
  // Step (jumps off the grid): first order, the rate of the theorem's O(1/N) bound.
  const double step_64  = fft_discretisation_error(step_function(), 1, 64, modes);
  const double step_256 = fft_discretisation_error(step_function(), 1, 256, modes);
  EXPECT_GT(step_64 / step_256, 3.);
  EXPECT_LT(step_64 / step_256, 6.); // not faster than first order
  // Lipschitz with a kink: second order (aliasing sum of c_k ~ k^-2).
  const double lipschitz_64  = fft_discretisation_error(lipschitz_function(), 1, 64, modes);
  const double lipschitz_256 = fft_discretisation_error(lipschitz_function(), 1, 256, modes);
  EXPECT_GT(lipschitz_64 / lipschitz_256, 12.);
  EXPECT_LT(lipschitz_64 / lipschitz_256, 20.);
  // Smooth (entire function): at float64 roundoff from N = 64 on.
  EXPECT_LT(fft_discretisation_error(smooth_function(), 2, 64, modes), 1e-13);
  EXPECT_GT(fft_discretisation_error(smooth_function(), 1, 16, modes), 1e-9);
}

TEST(ErrorBounds, PrecisionErrorStaysNearUnitRoundoffTimesMaxAbs)
{
  // The theory bounds the error by O(u M) at every N. Measured it is 0.08-0.5 u M: the
  // rounding of the largest output coefficients dominates, the input's rounding errors
  // average out. The lower bound checks that the rounding happened at all (without it
  // the error is float32's, ~1e-7 = 3e-5 u_bfloat16 M).
  for (const auto &v : {lipschitz_function(), step_function(), smooth_function()})
    for (const int64_t n : {64, 256})
      for (const auto type : {torch::kBFloat16, torch::kHalf})
        {
          bool         emulated = false;
          const double error    = fft_precision_error(v, 1, n, modes, type, cpu, &emulated);
          const double scale    = unit_roundoff(type) * max_abs(v, 1);
          EXPECT_TRUE(emulated);
          EXPECT_GT(error, 0.03 * scale) << v.name << " n = " << n;
          EXPECT_LT(error, 10. * scale) << v.name << " n = " << n;
        }
}

TEST(ErrorBounds, Float64LayerReproducesSpectralConvAndFirstOrderRate)
{
  torch::manual_seed(0);
  for (const int64_t dim : {1, 2})
    {
      SpectralConv       conv(SpectralConvOptions(1, 3, std::vector<int64_t>(dim, modes)));
      torch::NoGradGuard no_grad;
      conv->bias.normal_();
      const auto   v       = lipschitz_function();
      const auto   x       = sample(v, dim, 32).to(torch::kFloat).unsqueeze(0).unsqueeze(0);
      const auto   float32 = conv->forward(x).to(torch::kDouble);
      const auto   float64 = spectral_conv_float64(*conv, kept_coefficients(*conv, v, 32, false), 32);
      const double scale   = float64.abs().max().item<double>();
      EXPECT_LT((float32 - float64).abs().max().item<double>(), 1e-5 * scale) << "dim " << dim;

      const double step_64  = layer_discretisation_error(*conv, step_function(), 64);
      const double step_256 = layer_discretisation_error(*conv, step_function(), 256);
      EXPECT_GT(step_64 / step_256, 3.) << "dim " << dim;
    }
}

TEST(ErrorBounds, LayerPrecisionErrorOfTheBfloat16ContractionIsNearUnitRoundoff)
{
  torch::manual_seed(0);
  auto            policy = std::make_shared<PrecisionPolicy>();
  SpectralConv    conv(SpectralConvOptions(1, 3, {modes}), policy);
  PrecisionPolicy mixed;
  mixed.spectral_precision = SpectralPrecision::mixed;
  mixed.reduced_type       = ReducedType::bfloat16;
  const auto   v           = lipschitz_function();
  const double error       = layer_precision_error(*conv, *policy, mixed, v, 64, cpu);
  const double scale =
    unit_roundoff(torch::kBFloat16) *
    spectral_conv_float64(*conv, kept_coefficients(*conv, v, 64, false), 64).abs().max().item<double>();
  EXPECT_GT(error, 0.1 * scale);
  EXPECT_LT(error, 10. * scale);
  EXPECT_EQ(policy->spectral_precision, SpectralPrecision::full); // restored
  PrecisionPolicy float16_on_cpu = mixed;
  float16_on_cpu.reduced_type    = ReducedType::float16;
  EXPECT_THROW(layer_precision_error(*conv, *policy, float16_on_cpu, v, 64, cpu), UnsupportedPrecision);
}
