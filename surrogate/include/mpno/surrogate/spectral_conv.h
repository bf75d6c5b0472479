#pragma once

#include <mpno/surrogate/factorized_weight.h>
#include <mpno/surrogate/precision.h>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * The kept Fourier modes of one spatial axis, in FFT order.
   *
   * For a non-last axis with `n_modes` m on a grid of n points the kept
   * frequencies are k in [-m/2, m/2) (neuraloperator's centred block, method.md
   * Sec. 1.4 step 3), stored as k = 0 .. m/2 - 1 followed by k = -m/2 .. -1; a grid
   * with fewer than m points keeps what it resolves. The last axis is real-to-complex
   * and keeps k = 0 .. m/2 (m/2 + 1 modes), clipped to n/2 + 1.
   */
  struct KeptModes
  {
    int64_t n_positive; ///< number of kept k >= 0
    int64_t n_negative; ///< number of kept k < 0 (always 0 on the last axis)
    int64_t
    count() const
    {
      return n_positive + n_negative;
    }
  };

  /**
   * Kept modes for an axis of @p n grid points and @p n_modes requested modes.
   * @p last_axis selects the real-to-complex rule.
   */
  KeptModes
  kept_modes(int64_t n, int64_t n_modes, bool last_axis);

  struct SpectralConvOptions
  {
    SpectralConvOptions(int64_t in_channels, int64_t out_channels, std::vector<int64_t> n_modes)
      : in_channels_(in_channels)
      , out_channels_(out_channels)
      , n_modes_(std::move(n_modes))
    {
    }
    TORCH_ARG(int64_t, in_channels);
    TORCH_ARG(int64_t, out_channels);
    /** Modes per spatial dimension, as neuraloperator's `n_modes` (1 to 3 entries). */
    TORCH_ARG(std::vector<int64_t>, n_modes);
    TORCH_ARG(bool, bias) = true;
    /** "dense" | "tucker" | "cp" | "tt" (neuraloperator's `factorization`, method.md Sec. 2.2). */
    TORCH_ARG(std::string, factorization) = "dense";
    /** Fraction of the dense weight's entries the factors hold (ignored for dense). */
    TORCH_ARG(double, rank) = 1.;
    /** "factorized" (contract the input with the factors, planned order) or
     *  "reconstructed" (build the dense weight each call, then the dense contraction). */
    TORCH_ARG(std::string, implementation) = "factorized";
  };

  /**
   * The Fourier layer of the FNO (Li et al. 2021, Eq. 4; neuraloperator
   * `SpectralConv`, method.md Sec. 1.4) for 1, 2 and 3 spatial dimensions:
   *
   *   y = F^{-1}( W . (F x)|_{kept modes} ) + b,
   *
   * with the forward transform normalised by 1/N ("forward" norm), so the
   * coefficients, and hence the weights, do not depend on the grid: the same layer
   * evaluates on any resolution, and the output may be requested on a finer grid
   * (zero-shot super-resolution).
   *
   * Only the kept modes are transformed on non-last axes: the real FFT along the
   * last axis is truncated first, then the remaining axes are transformed on the
   * truncated block and gathered; the inverse scatters into a block of the kept
   * last-axis width only. No full-size complex spectrum is zero-filled.
   *
   * Parameters (neuraloperator's names): `weight`, float32
   * [in_channels, out_channels, m_1, ..., m_{d-1}, m_d/2+1, 2], the view_as_real of the
   * complex weight (so that every optimiser treats real and imaginary parts as
   * independent reals, as PyTorch's do for complex parameters), non-last mode axes in
   * FFT order (ceil(m/2) frequencies k >= 0, then k = -m/2 .. -1), initialised as a
   * complex normal of variance 2/(in+out) (method.md Sec. 1.4, HEAD 'auto'); `bias`,
   * float32 [out_channels, 1, ..., 1], zero.
   *
   * With a factorization other than dense, `weight` is undefined and the complex tensor
   * of the same shape [in, out, m_1, ..., m_d/2+1] is held by the factors of
   * weight_factors() (parameters named there, each real [..., 2]), initialised so that
   * the reconstructed entries have the dense variance 2/(in+out).
   *
   * The precision policy is shared with the owning model and read at every call.
   */
  class SpectralConvImpl : public torch::nn::Module
  {
  public:
    SpectralConvImpl(const SpectralConvOptions &options, std::shared_ptr<const PrecisionPolicy> precision = nullptr);

    /**
     * @param x [batch, in_channels, n_1, ..., n_d], float32 or the reduced type.
     * @param output_shape the grid of the result, (n'_1, ..., n'_d); empty for the
     *   input grid.
     * @return [batch, out_channels, n'_1, ..., n'_d], float32 (the bias is float32).
     * @throws std::invalid_argument for a wrong rank or channel count, an
     *   output_shape of the wrong length, or a precision the device cannot do.
     */
    torch::Tensor
    forward(const torch::Tensor &x, const std::vector<int64_t> &output_shape = {});

    void
    reset_parameters();

    /** The complex weight as real [in, out, m_1, ..., m_d/2+1, 2]: `weight`, or the
     *  factors' reconstruction (differentiable). */
    torch::Tensor
    dense_weight() const;

    /** Number of real scalars in the weight or its factors. */
    int64_t
    n_weight_parameters() const;

    const SpectralConvOptions &
    options() const
    {
      return options_;
    }

    torch::Tensor weight;
    torch::Tensor bias;
    /** The factors of a factorized weight, in the order of factor_layout_. */
    std::vector<torch::Tensor> factors;

  private:
    /** The kept-mode block of the contraction: spectrum [B, I, K_1.. K_d] complex ->
     *  [B, O, K_1.. K_d] complex64, in @p type. */
    torch::Tensor
    contract_kept(const torch::Tensor &spectrum, const std::vector<KeptModes> &kept, torch::Dtype type) const;

    SpectralConvOptions                    options_;
    Factorization                          factorization_;
    bool                                   reconstructed_;
    std::vector<WeightFactor>              factor_layout_;
    std::shared_ptr<const PrecisionPolicy> precision_;
  };
  TORCH_MODULE(SpectralConv);

  /**
   * The channel contraction of the kept modes, out[m, b, o] = sum_i x[m, b, i] w[m, i, o],
   * with complex x [modes, batch, in] and w [modes, in, out] (method.md Sec. 2.1).
   *
   * It runs as one real batched GEMM per mode in @p type (float32, bfloat16 or float16)
   * on the view_as_real planes, [x_re | x_im] [[w_re, w_im], [-w_im, w_re]] =
   * [y_re | y_im]: the 4 real products of the complex product packed into one call.
   * In bfloat16 the CPU backend (oneDNN) accumulates in float32; on a CPU without native
   * bfloat16 products the GEMM runs in float32 on rounded operands (gemm_operand()), with
   * the same result up to the order of the sums. Returns complex64 [modes, batch, out].
   */
  torch::Tensor
  contract_modes(const torch::Tensor &x, const torch::Tensor &w, torch::Dtype type);
} // namespace mpno
