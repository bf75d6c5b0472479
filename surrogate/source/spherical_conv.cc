#include <mpno/surrogate/spectral_conv.h>
#include <mpno/surrogate/spherical_conv.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace mpno
{
  SphericalConvImpl::SphericalConvImpl(const SphericalConvOptions            &options,
                                       std::shared_ptr<const PrecisionPolicy> precision)
    : options_(options)
    , precision_(precision ? std::move(precision) : std::make_shared<const PrecisionPolicy>())
  {
    const auto &m = options_.n_modes();
    if (m.size() != 2 || m[0] < 1 || m[1] < 2)
      throw std::invalid_argument("SphericalConv: n_modes must be (lmax >= 1, m >= 2), got " +
                                  std::to_string(m.size()) + " entries");
    if (options_.in_channels() < 1 || options_.out_channels() < 1)
      throw std::invalid_argument("SphericalConv: in_channels and out_channels must be >= 1");
    weight = register_parameter("weight", torch::empty({options_.in_channels(), options_.out_channels(), m[0], 2}));
    bias   = register_parameter("bias", torch::empty({options_.out_channels(), 1, 1}), options_.bias());
    reset_parameters();
  }

  void
  SphericalConvImpl::reset_parameters()
  {
    torch::NoGradGuard no_grad;
    // Complex normal with variance 2 / (in + out): each real component has half of it.
    weight.normal_(0., std::sqrt(1. / static_cast<double>(options_.in_channels() + options_.out_channels())));
    if (bias.defined())
      bias.zero_();
  }

  int64_t
  SphericalConvImpl::kept_degrees(const int64_t nlat_in,
                                  const int64_t nlon_in,
                                  const int64_t nlat_out,
                                  const int64_t nlon_out) const
  {
    const auto &m = options_.n_modes();
    const auto  g = options_.grid();
    return std::min({m[0], m[1] / 2, sht_lmax(g, nlat_in), sht_lmax(g, nlat_out), nlon_in / 2 + 1, nlon_out / 2 + 1});
  }

  torch::Tensor
  SphericalConvImpl::forward(const torch::Tensor &x, const std::vector<int64_t> &output_shape)
  {
    if (x.dim() != 4)
      throw std::invalid_argument("SphericalConv: expected input [batch, channels, nlat, nlon], got rank " +
                                  std::to_string(x.dim()));
    if (x.size(1) != options_.in_channels())
      throw std::invalid_argument("SphericalConv: expected " + std::to_string(options_.in_channels()) +
                                  " input channels, got " + std::to_string(x.size(1)));
    if (!output_shape.empty() && output_shape.size() != 2)
      throw std::invalid_argument("SphericalConv: output_shape must be (nlat, nlon)");
    const int64_t nlat = x.size(2), nlon = x.size(3);
    const int64_t nlat_out = output_shape.empty() ? nlat : output_shape[0];
    const int64_t nlon_out = output_shape.empty() ? nlon : output_shape[1];

    const PrecisionPolicy &policy = *precision_;
    const torch::Device    device = x.device();
    // Only the longitude axis is Fourier transformed: a reduced FFT runs on the output's
    // (the inverse, mixed and half) and, for half, on the input's.
    policy.check_supported(device, {nlon_out});
    if (policy.spectral_precision == SpectralPrecision::half)
      policy.check_supported(device, {nlon});
    const torch::Dtype reduced          = policy.reduced_dtype(device);
    const bool         reduced_spectral = policy.spectral_precision != SpectralPrecision::full;
    const bool         half             = policy.spectral_precision == SpectralPrecision::half;
    const bool         reduced_fft      = device.is_cuda() && reduced == torch::kHalf;

    const int64_t        L = kept_degrees(nlat, nlon, nlat_out, nlon_out);
    const RealSHT        sht(nlat, nlon, L, L, options_.grid());
    const InverseRealSHT isht(nlat_out, nlon_out, L, L, options_.grid());

    torch::Tensor input = policy.stabilizer == Stabilizer::tanh ? torch::tanh(x) : x;
    if (half && reduced_fft)
      input = input.to(torch::kHalf);
    else if (half)
      input = input.to(torch::kFloat).to(reduced).to(torch::kFloat);
    else
      input = input.to(torch::kFloat);
    const torch::Tensor coefficients = sht.forward(input, half ? reduced : torch::kFloat); // [B, I, L, L]

    // Driscoll-Healy: per degree l one [B * M, I] x [I, O] complex GEMM.
    const int64_t       B = x.size(0), I = options_.in_channels(), O = options_.out_channels();
    const torch::Tensor x_degrees = coefficients.permute({2, 0, 3, 1}).reshape({L, B * L, I});
    const torch::Tensor w_degrees = torch::view_as_complex(weight.narrow(2, 0, L)).permute({2, 0, 1});
    const torch::Tensor out       = contract_modes(x_degrees, w_degrees, reduced_spectral ? reduced : torch::kFloat)
                                .reshape({L, B, L, O})
                                .permute({1, 3, 0, 2});

    torch::Tensor y = isht.forward(out, reduced_spectral ? reduced : torch::kFloat, reduced_spectral && reduced_fft);
    if (reduced_spectral && !reduced_fft)
      y = y.to(reduced);
    y = y.to(torch::kFloat);
    if (bias.defined())
      y = y + bias;
    return y;
  }
} // namespace mpno
