#pragma once

// The error-bound study of Tu et al. (ICLR 2024, Sec. 3; method.md Sec. 6.4), checked
// numerically: the discretisation error of the truncated Fourier transform and of one
// Fourier layer, |F(v) - F_N(v)|, against the precision error of computing it in a
// reduced type, |F_N(v) - F~_N(v)|. Used by benchmarks/bench_error_bounds and its test.

#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/spectral_conv.h>

#include <torch/types.h>

#include <complex>
#include <functional>
#include <string>
#include <vector>

namespace mpno
{
  namespace error_bounds
  {
    /** A 1-periodic function of one variable with its exact Fourier coefficients
     *  c_k = int_0^1 f(x) e^{-2 pi i k x} dx. */
    struct Factor
    {
      std::function<torch::Tensor(const torch::Tensor &)> value; ///< float64 x -> f(x)
      std::function<std::complex<double>(int64_t)>        coefficient;
      double                                              max_abs; ///< sup |f|
    };

    /** v(x) = f_1(x_1) ... f_d(x_d) on the torus [0,1]^d (d <= 2), so that
     *  F(v)(k) = c^1_{k_1} ... c^d_{k_d} is known exactly. */
    struct TestFunction
    {
      std::string         name;
      std::vector<Factor> factors; ///< one per axis, two entries
    };

    /** exp(sin(2 pi x_1)) exp(cos(2 pi x_2)/2): c_k = (-i)^k I_|k|(1) and I_|k|(1/2)
     *  (modified Bessel functions), so F_N converges faster than any power of N. */
    TestFunction
    smooth_function();
    /** |sin(pi x_1)| |sin(pi (x_2 - 1/3))|: Lipschitz (constant pi) with a kink,
     *  c_k = 2 / (pi (1 - 4 k^2)); the aliasing error falls like N^-2. */
    TestFunction
    lipschitz_function();
    /** The indicator of [1/3, 2/3) x [1/5, 7/10) (a thresholded field; jumps off the
     *  grid for N a power of two): c_k = (e^{-2 pi i k a} - e^{-2 pi i k b}) / (2 pi i k);
     *  the aliasing error falls like N^-1, the rate of the theorem's bound. */
    TestFunction
    step_function();

    /** sup |v| on [0,1]^dim. */
    double
    max_abs(const TestFunction &v, int64_t dim);

    /** v at the grid points j/n, float64 [n] (dim 1) or [n, n] (dim 2). */
    torch::Tensor
    sample(const TestFunction &v, int64_t dim, int64_t n);

    /** The unit roundoff u of @p type: 2^-11 for float16, 2^-8 for bfloat16, 2^-24 for
     *  float32 (method.md Sec. 6.4 calls it eps). */
    double
    unit_roundoff(torch::Dtype type);

    /**
     * The discretisation error of the truncated Fourier transform,
     * max_{|k_j| <= K} |F(v)(k) - F_N(v)(k)|, F exact, F_N = rfftn(norm="forward") in
     * float64 on n points per dimension. @throws std::invalid_argument if n < 2K.
     */
    double
    fft_discretisation_error(const TestFunction &v, int64_t dim, int64_t n, int64_t n_modes);

    /**
     * The precision error max_{|k_j| <= K} |F_N(v)(k) - F~_N(v)(k)|, F~_N with the FFT's
     * input and output in @p reduced (float16 or bfloat16). The real cuFFT float16
     * transform when @p device is CUDA and @p reduced is float16; otherwise emulated as
     * mpno's `half` on CPU does: input and output rounded, the transform in float32.
     * @p emulated (if given) tells which.
     */
    double
    fft_precision_error(const TestFunction  &v,
                        int64_t              dim,
                        int64_t              n,
                        int64_t              n_modes,
                        torch::Dtype         reduced,
                        const torch::Device &device,
                        bool                *emulated = nullptr);

    /**
     * The layer y = F^{-1}(W . C) + b of @p conv in float64 on n points per dimension,
     * for given coefficients C of its kept modes, complex128 [1, in_channels, K_1.. K_d]
     * in the order of kept_frequencies. Returns float64 [1, out_channels, n...].
     */
    torch::Tensor
    spectral_conv_float64(const SpectralConvImpl &conv, const torch::Tensor &coefficients, int64_t n);

    /** The signed frequencies SpectralConv keeps on an axis of n points (FFT order). */
    std::vector<int64_t>
    kept_frequencies(int64_t n, int64_t n_modes, bool last_axis);

    /** The coefficients of v's float64 DFT on n points (exact = false) or the exact
     *  ones (exact = true) at the kept modes of @p conv: complex128 [1, 1, K_1.. K_d]. */
    torch::Tensor
    kept_coefficients(const SpectralConvImpl &conv, const TestFunction &v, int64_t n, bool exact);

    /** The layer's discretisation error: max over the n^d grid points of
     *  |layer_N(v) - layer(v)|, both in float64, layer(v) from the exact coefficients.
     *  @p conv must have in_channels 1. */
    double
    layer_discretisation_error(const SpectralConvImpl &conv, const TestFunction &v, int64_t n);

    /**
     * The layer's precision error: max over the grid points of |layer_N^full(v) -
     * layer_N^reduced(v)|, both from @p conv's forward on @p device with v in float32.
     * @p policy is the policy @p conv reads (its shared pointer); it is set to full, then
     * to @p reduced, and restored. @throws UnsupportedPrecision where @p reduced cannot run.
     */
    double
    layer_precision_error(SpectralConvImpl      &conv,
                          PrecisionPolicy       &policy,
                          const PrecisionPolicy &reduced,
                          const TestFunction    &v,
                          int64_t                n,
                          const torch::Device   &device);
  } // namespace error_bounds
} // namespace mpno
