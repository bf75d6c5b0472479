#include <mpno/surrogate/spectral_conv.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace mpno
{
  namespace
  {
    /** Round a float32 or complex64 tensor to @p reduced and back: the emulation of a
     *  reduced-precision FFT input or output on a device that has none. */
    torch::Tensor
    round_to(const torch::Tensor &x, const torch::Dtype reduced)
    {
      if (x.is_complex())
        return torch::view_as_complex(torch::view_as_real(x).to(reduced).to(torch::kFloat).contiguous());
      return x.to(reduced).to(torch::kFloat);
    }

    /** Keep the kept frequencies of axis @p axis (FFT order, n points): the first
     *  n_positive and the last n_negative entries. */
    torch::Tensor
    gather_modes(const torch::Tensor &x, const int64_t axis, const KeptModes &kept)
    {
      const int64_t n = x.size(axis);
      if (kept.count() == n)
        return x;
      if (kept.n_negative == 0)
        return x.narrow(axis, 0, kept.n_positive);
      return torch::cat({x.narrow(axis, 0, kept.n_positive), x.narrow(axis, n - kept.n_negative, kept.n_negative)},
                        axis);
    }

    /** The inverse of gather_modes onto n points: zeros between the kept positive and
     *  negative frequencies. */
    torch::Tensor
    scatter_modes(const torch::Tensor &x, const int64_t axis, const KeptModes &kept, const int64_t n)
    {
      if (kept.count() == n)
        return x;
      auto zero_shape  = x.sizes().vec();
      zero_shape[axis] = n - kept.count();
      const auto zeros = torch::zeros(zero_shape, x.options());
      if (kept.n_negative == 0)
        return torch::cat({x, zeros}, axis);
      return torch::cat({x.narrow(axis, 0, kept.n_positive), zeros, x.narrow(axis, kept.n_positive, kept.n_negative)},
                        axis);
    }

    /**
     * The first K coefficients of the real FFT along the last axis, normalised by 1/N,
     * with a backward pass that works on those K coefficients only. LibTorch's own
     * backward of rfft zero-fills a full-size complex spectrum and runs a complex FFT
     * on it, which dominated the training step on larger grids.
     *
     * Forward: X_k = N^{-1} sum_n x_n e^{-2 pi i k n / N}, k < K.
     * Backward (g = dL/dRe X + i dL/dIm X): dL/dx_n = N^{-1} Re sum_{k<K} g_k e^{2 pi i k n / N},
     * an inverse real FFT of g with the interior coefficients halved (irfft counts
     * them twice) and the imaginary parts of the k = 0 and Nyquist terms dropped.
     */
    class TruncatedRFFT : public torch::autograd::Function<TruncatedRFFT>
    {
    public:
      static torch::Tensor
      forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &x, const int64_t n_kept)
      {
        ctx->saved_data["n"]     = x.size(-1);
        ctx->saved_data["dtype"] = static_cast<int64_t>(x.scalar_type());
        return torch::fft::rfft(x, c10::nullopt, -1, "forward").narrow(-1, 0, n_kept);
      }

      static torch::autograd::tensor_list
      backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grad_outputs)
      {
        const int64_t n      = ctx->saved_data["n"].toInt();
        const auto    dtype  = static_cast<torch::ScalarType>(ctx->saved_data["dtype"].toInt());
        const auto   &g      = grad_outputs[0];
        const int64_t kept   = g.size(-1);
        auto          weight = torch::full({kept}, 0.5, torch::TensorOptions(torch::kFloat).device(g.device()));
        weight[0]            = 1.;
        if (n % 2 == 0 && kept == n / 2 + 1)
          weight[kept - 1] = 1.;
        const auto grad_x =
          torch::fft::irfft(g * weight.to(g.dtype() == torch::kComplexHalf ? torch::kHalf : torch::kFloat),
                            n,
                            -1,
                            "backward");
        return {grad_x.to(dtype), torch::Tensor()};
      }
    };
  } // namespace

  KeptModes
  kept_modes(const int64_t n, const int64_t n_modes, const bool last_axis)
  {
    if (last_axis)
      return {std::min(n_modes / 2 + 1, n / 2 + 1), 0};
    return {std::min(n_modes - n_modes / 2, n - n / 2), std::min(n_modes / 2, n / 2)};
  }

  SpectralConvImpl::SpectralConvImpl(const SpectralConvOptions             &options,
                                     std::shared_ptr<const PrecisionPolicy> precision)
    : options_(options)
    , precision_(precision ? std::move(precision) : std::make_shared<const PrecisionPolicy>())
  {
    const auto &m = options_.n_modes();
    if (m.empty() || m.size() > 3)
      throw std::invalid_argument("SpectralConv: n_modes must have 1 to 3 entries, got " + std::to_string(m.size()));
    for (const int64_t mode : m)
      if (mode < 1)
        throw std::invalid_argument("SpectralConv: every entry of n_modes must be >= 1, got " + std::to_string(mode));
    if (options_.in_channels() < 1 || options_.out_channels() < 1)
      throw std::invalid_argument("SpectralConv: in_channels and out_channels must be >= 1");

    factorization_ = parse_factorization(options_.factorization());
    if (options_.implementation() != "factorized" && options_.implementation() != "reconstructed")
      throw std::invalid_argument("SpectralConv: implementation must be factorized or reconstructed, got '" +
                                  options_.implementation() + "'");
    reconstructed_ = options_.implementation() == "reconstructed";

    std::vector<int64_t> weight_shape = {options_.in_channels(), options_.out_channels()};
    for (std::size_t j = 0; j + 1 < m.size(); ++j)
      weight_shape.push_back(m[j]);
    weight_shape.push_back(m.back() / 2 + 1);
    const double variance = 2. / static_cast<double>(options_.in_channels() + options_.out_channels());
    factor_layout_        = weight_factors(factorization_, weight_shape, options_.rank(), variance);
    const auto real_shape = [](std::vector<int64_t> shape) {
      shape.push_back(2);
      return shape;
    };
    if (factorization_ == Factorization::dense)
      weight = register_parameter("weight", torch::empty(real_shape(weight_shape)));
    for (const auto &factor : factor_layout_)
      factors.push_back(register_parameter(factor.name, torch::empty(real_shape(factor.shape))));

    std::vector<int64_t> bias_shape(m.size() + 1, 1);
    bias_shape[0] = options_.out_channels();
    bias          = register_parameter("bias", torch::empty(bias_shape), options_.bias());
    reset_parameters();
  }

  torch::Tensor
  SpectralConvImpl::forward(const torch::Tensor &x, const std::vector<int64_t> &output_shape)
  {
    const auto   &m = options_.n_modes();
    const int64_t d = static_cast<int64_t>(m.size());
    if (x.dim() != d + 2)
      throw std::invalid_argument("SpectralConv: expected input [batch, channels, n_1.. n_" + std::to_string(d) +
                                  "] of rank " + std::to_string(d + 2) + ", got rank " + std::to_string(x.dim()));
    if (x.size(1) != options_.in_channels())
      throw std::invalid_argument("SpectralConv: expected " + std::to_string(options_.in_channels()) +
                                  " input channels, got " + std::to_string(x.size(1)));
    const std::vector<int64_t> in_shape(x.sizes().begin() + 2, x.sizes().end());
    const std::vector<int64_t> out_shape = output_shape.empty() ? in_shape : output_shape;
    if (static_cast<int64_t>(out_shape.size()) != d)
      throw std::invalid_argument("SpectralConv: output_shape must have " + std::to_string(d) + " entries");

    const PrecisionPolicy &policy = *precision_;
    const torch::Device    device = x.device();
    // A reduced FFT runs on the output grid (the inverse, mixed and half) and, for half,
    // on the input grid too.
    policy.check_supported(device, out_shape);
    if (policy.spectral_precision == SpectralPrecision::half)
      policy.check_supported(device, in_shape);
    const torch::Dtype reduced          = policy.reduced_dtype(device);
    const bool         reduced_spectral = policy.spectral_precision != SpectralPrecision::full;
    const bool         half             = policy.spectral_precision == SpectralPrecision::half;
    // A reduced FFT exists only as cuFFT float16; elsewhere its input and output are rounded.
    const bool reduced_fft = device.is_cuda() && reduced == torch::kHalf;

    // Kept modes per axis: what both the input and the output grid resolve.
    std::vector<KeptModes> kept;
    for (int64_t j = 0; j < d; ++j)
      kept.push_back(kept_modes(std::min(in_shape[j], out_shape[j]), m[j], j == d - 1));

    torch::Tensor spectrum = policy.stabilizer == Stabilizer::tanh ? torch::tanh(x) : x;
    if (half && reduced_fft)
      spectrum = spectrum.to(torch::kHalf);
    else if (half)
      spectrum = round_to(spectrum.to(torch::kFloat), reduced);
    else
      spectrum = spectrum.to(torch::kFloat);

    // Forward transform, normalised by 1/N ("forward"): the real FFT along the last
    // axis, truncated first, then the other axes on the truncated block only.
    spectrum = TruncatedRFFT::apply(spectrum, kept[d - 1].n_positive);
    for (int64_t j = 0; j + 1 < d; ++j)
      spectrum = gather_modes(torch::fft::fft(spectrum, c10::nullopt, 2 + j, "forward"), 2 + j, kept[j]);
    if (spectrum.scalar_type() != torch::kComplexFloat)
      spectrum = spectrum.to(torch::kComplexFloat);
    if (half && !reduced_fft)
      spectrum = round_to(spectrum, reduced);

    // The contraction of the kept modes, [B, I, K_1.. K_d] -> [B, O, K_1.. K_d].
    const torch::Dtype contraction_type =
      policy.spectral_precision == SpectralPrecision::full ? torch::kFloat : reduced;
    torch::Tensor out = contract_kept(spectrum, kept, contraction_type);
    if (reduced_spectral && reduced_fft)
      out = out.to(torch::kComplexHalf);

    // Inverse transform onto the output grid: the non-last axes on the block of the
    // kept last-axis width, then the real inverse FFT, which zero-pads the last axis.
    for (int64_t j = d - 2; j >= 0; --j)
      out = torch::fft::ifft(scatter_modes(out, 2 + j, kept[j], out_shape[j]), c10::nullopt, 2 + j, "forward");
    out = torch::fft::irfft(out, out_shape[d - 1], -1, "forward");
    if (reduced_spectral && !reduced_fft)
      out = round_to(out, reduced);
    out = out.to(torch::kFloat);
    if (bias.defined())
      out = out + bias;
    return out;
  }

} // namespace mpno
