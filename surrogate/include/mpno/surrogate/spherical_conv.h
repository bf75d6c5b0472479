#pragma once

#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/spherical_harmonics.h>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <vector>

namespace mpno
{
  struct SphericalConvOptions
  {
    SphericalConvOptions(int64_t in_channels, int64_t out_channels, std::vector<int64_t> n_modes)
      : in_channels_(in_channels)
      , out_channels_(out_channels)
      , n_modes_(std::move(n_modes))
    {
    }
    TORCH_ARG(int64_t, in_channels);
    TORCH_ARG(int64_t, out_channels);
    /** (lmax, m): degrees l < lmax and orders m < m / 2 (neuraloperator's `n_modes` of
     *  SphericalConv, method.md Sec. 4.2), then the triangular truncation to the smaller. */
    TORCH_ARG(std::vector<int64_t>, n_modes);
    TORCH_ARG(bool, bias) = true;
    /** The latitude-longitude grid of input and output (neuraloperator's `sht_grids`). */
    TORCH_ARG(SphereGrid, grid) = SphereGrid::equiangular;
  };

  /**
   * The spherical convolution of the SFNO (Bonev et al. 2023; neuraloperator
   * `SphericalConv`, method.md Sec. 4.2), in the Driscoll-Healy form:
   *
   *   a = RealSHT(x);   b[o, l, m] = sum_i a[i, l, m] W[i, o, l];   y = InverseRealSHT(b) + bias,
   *
   * the weight depending on the degree l only (a convolution with a zonal kernel, which
   * commutes with rotations). The transforms are built for the grid of each call (cached
   * Legendre tables), so the same weights evaluate on any resolution, and the output may
   * be requested on a finer grid (zero-shot super-resolution). Kept degrees: l < L with
   * L = min(n_modes[0], n_modes[1] / 2) clipped to what the input and output grids resolve
   * (sht_lmax(), nlon / 2 + 1); orders m <= l < L.
   *
   * Parameters (neuraloperator's names): `weight`, float32 [in, out, n_modes[0], 2], the
   * view_as_real of the complex weight, a complex normal of variance 2 / (in + out)
   * (neuraloperator init_std 'auto'); `bias`, float32 [out, 1, 1], zero.
   *
   * Precision (the policy shared with the model, read at every call; as SpectralConv,
   * design.md "Precision policy"): `full` everything in float32; `mixed` the forward
   * transform (rfft and Legendre quadrature) in float32, the Driscoll-Healy contraction
   * and the inverse transform's Legendre synthesis as reduced-type GEMMs with float32
   * accumulation (gemm_operand()), the inverse rfft in complex half on CUDA float16 and
   * in float32 with its output rounded to the reduced type elsewhere; `half` also the
   * input and the forward transform in the reduced type (a half cuFFT on CUDA, rounding
   * of the rfft's input elsewhere). The tanh stabilizer acts on the input.
   */
  class SphericalConvImpl : public torch::nn::Module
  {
  public:
    SphericalConvImpl(const SphericalConvOptions &options, std::shared_ptr<const PrecisionPolicy> precision = nullptr);

    /**
     * @param x [batch, in_channels, nlat, nlon], float32 or the reduced type.
     * @param output_shape (nlat', nlon') of the result on the same kind of grid; empty
     *   for the input grid.
     * @return [batch, out_channels, nlat', nlon'], float32.
     * @throws std::invalid_argument for a wrong rank or channel count, an output_shape
     *   not of 2 entries, a grid too small for its quadrature, or a precision the device
     *   cannot do (a half cuFFT needs a power-of-two nlon).
     */
    torch::Tensor
    forward(const torch::Tensor &x, const std::vector<int64_t> &output_shape = {});

    void
    reset_parameters();

    /** The number of degrees kept on an nlat x nlon input and an output grid. */
    int64_t
    kept_degrees(int64_t nlat_in, int64_t nlon_in, int64_t nlat_out, int64_t nlon_out) const;

    const SphericalConvOptions &
    options() const
    {
      return options_;
    }

    torch::Tensor weight;
    torch::Tensor bias;

  private:
    SphericalConvOptions                   options_;
    std::shared_ptr<const PrecisionPolicy> precision_;
  };
  TORCH_MODULE(SphericalConv);
} // namespace mpno
