#pragma once

#include <torch/types.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace mpno
{
  /** Thrown when a precision policy asks for what the device cannot compute. */
  class UnsupportedPrecision : public std::invalid_argument
  {
  public:
    using std::invalid_argument::invalid_argument;
  };

  /**
   * The precision of the Fourier layers, the three modes of Tu et al. (ICLR 2024,
   * Sec. 3) and of neuraloperator's `fno_block_precision` (method.md Sec. 1.1):
   * - `full`:  FFT, contraction and inverse FFT in float32 / complex64;
   * - `mixed`: FFT in float32, contraction and inverse FFT in the reduced type;
   * - `half`:  FFT, contraction and inverse FFT in the reduced type.
   */
  enum class SpectralPrecision
  {
    full,
    mixed,
    half
  };

  /** The reduced floating point type: `automatic` is float16 on CUDA, bfloat16 on CPU. */
  enum class ReducedType
  {
    automatic,
    float16,
    bfloat16
  };

  /** The pre-activation of the spectral branch (method.md Sec. 1.2). */
  enum class Stabilizer
  {
    none,
    tanh
  };

  /** Parse "full" | "mixed" | "half"; throws std::invalid_argument naming the value. */
  SpectralPrecision
  parse_spectral_precision(const std::string &name);
  /** Parse "auto" | "float16" | "bfloat16"; throws std::invalid_argument. */
  ReducedType
  parse_reduced_type(const std::string &name);
  /** Parse "none" | "tanh"; throws std::invalid_argument. */
  Stabilizer
  parse_stabilizer(const std::string &name);

  /**
   * Whether @p device multiplies in @p type natively: CUDA for float16 and bfloat16 (taken
   * as native on every GPU; before Ampere, bfloat16 is not, and `auto` would still switch
   * autocast on); a CPU
   * for bfloat16 when it has AVX512-BF16 or AMX-BF16 (the "avx512_bf16" or "amx_bf16"
   * flag of /proc/cpuinfo; false where that file is absent). float32 is always native.
   * Without native support LibTorch's CPU bfloat16 matrix products and convolutions are
   * emulated: measured 4-5x slower than float32 on an AVX2 CPU (AMD EPYC, 1 thread), so
   * `Autocast = auto` switches autocast off there.
   */
  bool
  native_reduced_products(const torch::Device &device, torch::Dtype type);

  /**
   * @p x as an operand of a matrix product in @p type: x.to(type) where the device
   * multiplies in @p type natively (native_reduced_products()); elsewhere x rounded to
   * @p type and held in float32. A product of two bfloat16 or float16 numbers is exact in
   * float32, so a float32 GEMM on such operands, its result rounded to @p type, computes
   * what the reduced GEMM with float32 accumulation computes (up to the order of the
   * sums), without LibTorch's emulated bfloat16 kernels. Differentiable (the gradient is
   * rounded to @p type as well).
   */
  torch::Tensor
  gemm_operand(const torch::Tensor &x, torch::Dtype type);

  std::string
  to_string(SpectralPrecision precision);
  std::string
  to_string(ReducedType type);
  std::string
  to_string(Stabilizer stabilizer);

  /**
   * The precision policy of design.md: one object decides every dtype of the
   * model, nothing relies on autocast's defaults inside the spectral path
   * (method.md Sec. 1.3).
   *
   * On a CPU build LibTorch has no float16 or bfloat16 FFT. There `half` is
   * emulated: the FFT's input and output are rounded to the reduced type and the
   * transform itself runs in float32 (it exists to study the precision error, not
   * for speed). `mixed` on CPU is real: the spectral contraction runs as bfloat16
   * GEMMs on view_as_real planes with float32 accumulation inside oneDNN. On CUDA
   * `half` is the real cuFFT half transform, which needs power-of-two sizes.
   */
  struct PrecisionPolicy
  {
    SpectralPrecision spectral_precision = SpectralPrecision::full;
    ReducedType       reduced_type       = ReducedType::automatic;
    Stabilizer        stabilizer         = Stabilizer::none;
    /** Run lifting, projection, skips and channel MLPs in the reduced type. */
    bool autocast = false;

    /** The reduced dtype on @p device (float16 on CUDA, bfloat16 on CPU for `automatic`). */
    torch::Dtype
    reduced_dtype(const torch::Device &device) const;

    /** The dtype of activations between layers: reduced if autocast, else float32. */
    torch::Dtype
    activation_dtype(const torch::Device &device) const;

    /** True when `half` is emulated (the device has no reduced-precision FFT). */
    bool
    emulates_half_fft(const torch::Device &device) const;

    /**
     * Throws UnsupportedPrecision with the reason when this policy cannot run on
     * @p device for a spatial grid of @p grid_shape points per dimension: half cuFFT
     * needs power-of-two sizes and float16, bfloat16 has no cuFFT transform at all.
     */
    void
    check_supported(const torch::Device &device, const std::vector<int64_t> &grid_shape) const;

    /** One line for the log, e.g. "spectral mixed (bfloat16 contraction), tanh, autocast bfloat16". */
    std::string
    describe(const torch::Device &device) const;

    /** One step up: half -> mixed -> full; at full, autocast is switched off; full
     *  without autocast stays as it is. Used when training meets non-finite values. */
    PrecisionPolicy
    raised() const;
  };
} // namespace mpno
