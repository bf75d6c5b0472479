#include <mpno/surrogate/error_bounds.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace mpno
{
  namespace error_bounds
  {
    namespace
    {
      const double pi = std::acos(-1.);

      /** exp(a cos(2 pi x - phase)) = sum_k I_|k|(a) e^{-i k phase} e^{2 pi i k x}
       *  (the generating function of the modified Bessel functions). */
      Factor
      exp_cos(const double amplitude, const double phase)
      {
        return {[=](const torch::Tensor &x) { return torch::exp(amplitude * torch::cos(2. * pi * x - phase)); },
                [=](const int64_t k) {
                  return std::polar(std::cyl_bessel_i(static_cast<double>(std::abs(k)), amplitude),
                                    -static_cast<double>(k) * phase);
                },
                std::exp(amplitude)};
      }

      /** |sin(pi (x - shift))|: c_k = 2 e^{-2 pi i k shift} / (pi (1 - 4 k^2)). */
      Factor
      abs_sin(const double shift)
      {
        return {[=](const torch::Tensor &x) { return torch::abs(torch::sin(pi * (x - shift))); },
                [=](const int64_t k) {
                  const double kd = static_cast<double>(k);
                  return std::polar(2. / (pi * (1. - 4. * kd * kd)), -2. * pi * kd * shift);
                },
                1.};
      }

      /** The indicator of [a, b) in [0, 1). */
      Factor
      indicator(const double a, const double b)
      {
        return {[=](const torch::Tensor &x) { return ((x >= a) & (x < b)).to(torch::kDouble); },
                [=](const int64_t k) {
                  if (k == 0)
                    return std::complex<double>(b - a, 0.);
                  const double kd = static_cast<double>(k);
                  return (std::polar(1., -2. * pi * kd * a) - std::polar(1., -2. * pi * kd * b)) /
                         std::complex<double>(0., 2. * pi * kd);
                },
                1.};
      }

      void
      check_dim(const int64_t dim)
      {
        if (dim != 1 && dim != 2)
          throw std::invalid_argument("error_bounds: dimension must be 1 or 2, got " + std::to_string(dim));
      }

      std::vector<int64_t>
      spatial_dims(const torch::Tensor &x, const int64_t dim)
      {
        std::vector<int64_t> dims;
        for (int64_t j = 0; j < dim; ++j)
          dims.push_back(x.dim() - dim + j);
        return dims;
      }

      /** F_N = rfftn(norm="forward") over the last @p dim axes. */
      torch::Tensor
      rfftn_forward(const torch::Tensor &x, const int64_t dim)
      {
        return torch::fft::rfftn(x, c10::nullopt, spatial_dims(x, dim), "forward");
      }

      /** The entries of an rfftn spectrum (last @p frequencies.size() axes, n points per
       *  axis) at the signed frequencies given per axis. */
      torch::Tensor
      gather(torch::Tensor spectrum, const std::vector<std::vector<int64_t>> &frequencies, const int64_t n)
      {
        const int64_t d = static_cast<int64_t>(frequencies.size());
        for (int64_t j = 0; j < d; ++j)
          {
            std::vector<int64_t> index;
            for (const int64_t k : frequencies[j])
              index.push_back(((k % n) + n) % n);
            spectrum =
              spectrum.index_select(spectrum.dim() - d + j, torch::tensor(index, torch::kLong).to(spectrum.device()));
          }
        return spectrum;
      }

      /** The exact F(v) at the given frequencies per axis, complex128 [K_1.. K_d]. */
      torch::Tensor
      exact_block(const TestFunction &v, const std::vector<std::vector<int64_t>> &frequencies)
      {
        torch::Tensor block;
        for (std::size_t j = 0; j < frequencies.size(); ++j)
          {
            std::vector<c10::complex<double>> c;
            for (const int64_t k : frequencies[j])
              {
                const auto value = v.factors.at(j).coefficient(k);
                c.emplace_back(value.real(), value.imag());
              }
            const auto axis = torch::tensor(c, torch::kComplexDouble);
            block           = j == 0 ? axis : block.unsqueeze(-1) * axis;
          }
        return block;
      }

      /** |k_j| <= K on non-last axes, 0 <= k <= K on the last (the real-to-complex one). */
      std::vector<std::vector<int64_t>>
      low_frequencies(const int64_t dim, const int64_t n_modes)
      {
        std::vector<std::vector<int64_t>> frequencies(dim);
        for (int64_t j = 0; j < dim; ++j)
          for (int64_t k = j + 1 < dim ? -n_modes : 0; k <= n_modes; ++k)
            frequencies[j].push_back(k);
        return frequencies;
      }

      void
      check_resolution(const int64_t n, const int64_t n_modes)
      {
        if (n_modes < 1 || n < 2 * n_modes)
          throw std::invalid_argument("error_bounds: need n_modes >= 1 and n >= 2 n_modes, got n = " +
                                      std::to_string(n) + ", n_modes = " + std::to_string(n_modes));
      }
    } // namespace

    TestFunction
    smooth_function()
    {
      return {"smooth", {exp_cos(1., pi / 2.), exp_cos(0.5, 0.)}};
    }

    TestFunction
    lipschitz_function()
    {
      return {"lipschitz", {abs_sin(0.), abs_sin(1. / 3.)}};
    }

    TestFunction
    step_function()
    {
      return {"step", {indicator(1. / 3., 2. / 3.), indicator(0.2, 0.7)}};
    }

    double
    max_abs(const TestFunction &v, const int64_t dim)
    {
      check_dim(dim);
      double m = 1.;
      for (int64_t j = 0; j < dim; ++j)
        m *= v.factors.at(j).max_abs;
      return m;
    }

    torch::Tensor
    sample(const TestFunction &v, const int64_t dim, const int64_t n)
    {
      check_dim(dim);
      const auto x      = torch::arange(n, torch::kDouble) / static_cast<double>(n);
      auto       values = v.factors.at(0).value(x);
      if (dim == 2)
        values = values.unsqueeze(1) * v.factors.at(1).value(x).unsqueeze(0);
      return values;
    }

    double
    unit_roundoff(const torch::Dtype type)
    {
      switch (type)
        {
          case torch::kHalf:
            return std::ldexp(1., -11);
          case torch::kBFloat16:
            return std::ldexp(1., -8);
          case torch::kFloat:
            return std::ldexp(1., -24);
          default:
            throw std::invalid_argument("unit_roundoff: expected float16, bfloat16 or float32");
        }
    }

    double
    fft_discretisation_error(const TestFunction &v, const int64_t dim, const int64_t n, const int64_t n_modes)
    {
      check_resolution(n, n_modes);
      const auto frequencies = low_frequencies(dim, n_modes);
      const auto discrete    = gather(rfftn_forward(sample(v, dim, n), dim), frequencies, n);
      return (discrete - exact_block(v, frequencies)).abs().max().item<double>();
    }

    double
    fft_precision_error(const TestFunction  &v,
                        const int64_t        dim,
                        const int64_t        n,
                        const int64_t        n_modes,
                        const torch::Dtype   reduced,
                        const torch::Device &device,
                        bool                *emulated)
    {
      check_resolution(n, n_modes);
      const auto    frequencies = low_frequencies(dim, n_modes);
      const auto    values      = sample(v, dim, n);
      const auto    reference   = gather(rfftn_forward(values, dim), frequencies, n);
      const bool    real_half   = device.is_cuda() && reduced == torch::kHalf;
      torch::Tensor spectrum;
      if (real_half) // cuFFT float16: input, twiddles and output in float16
        spectrum = rfftn_forward(values.to(device, torch::kHalf), dim).to(torch::kComplexFloat);
      else
        {
          spectrum = rfftn_forward(values.to(device, torch::kFloat).to(reduced).to(torch::kFloat), dim);
          spectrum = torch::view_as_complex(torch::view_as_real(spectrum).to(reduced).to(torch::kFloat).contiguous());
        }
      if (emulated)
        *emulated = !real_half;
      const auto approximate = gather(spectrum, frequencies, n).to(torch::kCPU, torch::kComplexDouble);
      return (reference - approximate).abs().max().item<double>();
    }

    std::vector<int64_t>
    kept_frequencies(const int64_t n, const int64_t n_modes, const bool last_axis)
    {
      const KeptModes      kept = kept_modes(n, n_modes, last_axis);
      std::vector<int64_t> k;
      for (int64_t f = 0; f < kept.n_positive; ++f)
        k.push_back(f);
      for (int64_t f = -kept.n_negative; f < 0; ++f)
        k.push_back(f);
      return k;
    }

    torch::Tensor
    spectral_conv_float64(const SpectralConvImpl &conv, const torch::Tensor &coefficients, const int64_t n)
    {
      const auto   &m = conv.options().n_modes();
      const int64_t d = static_cast<int64_t>(m.size());
      torch::Tensor w = torch::view_as_complex(conv.weight.detach().to(torch::kCPU, torch::kDouble).contiguous());
      for (int64_t j = 0; j < d; ++j)
        {
          std::vector<int64_t> index; // weight axes: ceil(m/2) frequencies k >= 0, then k = -m/2 .. -1
          for (const int64_t k : kept_frequencies(n, m[j], j == d - 1))
            index.push_back(k >= 0 ? k : m[j] + k);
          w = w.index_select(2 + j, torch::tensor(index, torch::kLong));
        }
      torch::Tensor y = torch::einsum("bi...,io...->bo...", {coefficients, w});
      for (int64_t j = d - 1; j >= 0; --j)
        {
          std::vector<int64_t> index;
          for (const int64_t k : kept_frequencies(n, m[j], j == d - 1))
            index.push_back(((k % n) + n) % n);
          auto shape   = y.sizes().vec();
          shape[2 + j] = j == d - 1 ? n / 2 + 1 : n;
          y            = torch::zeros(shape, y.options()).index_copy_(2 + j, torch::tensor(index, torch::kLong), y);
        }
      y = torch::fft::irfftn(y, std::vector<int64_t>(d, n), spatial_dims(y, d), "forward");
      if (conv.bias.defined())
        y = y + conv.bias.detach().to(torch::kCPU, torch::kDouble);
      return y;
    }

    torch::Tensor
    kept_coefficients(const SpectralConvImpl &conv, const TestFunction &v, const int64_t n, const bool exact)
    {
      const auto                       &m = conv.options().n_modes();
      const int64_t                     d = static_cast<int64_t>(m.size());
      std::vector<std::vector<int64_t>> frequencies;
      for (int64_t j = 0; j < d; ++j)
        frequencies.push_back(kept_frequencies(n, m[j], j == d - 1));
      const auto block =
        exact ? exact_block(v, frequencies) : gather(rfftn_forward(sample(v, d, n), d), frequencies, n);
      return block.unsqueeze(0).unsqueeze(0);
    }

    double
    layer_discretisation_error(const SpectralConvImpl &conv, const TestFunction &v, const int64_t n)
    {
      if (conv.options().in_channels() != 1)
        throw std::invalid_argument("layer_discretisation_error: the layer must have in_channels 1");
      const auto discrete = spectral_conv_float64(conv, kept_coefficients(conv, v, n, false), n);
      const auto exact    = spectral_conv_float64(conv, kept_coefficients(conv, v, n, true), n);
      return (discrete - exact).abs().max().item<double>();
    }

    double
    layer_precision_error(SpectralConvImpl      &conv,
                          PrecisionPolicy       &policy,
                          const PrecisionPolicy &reduced,
                          const TestFunction    &v,
                          const int64_t          n,
                          const torch::Device   &device)
    {
      torch::NoGradGuard    no_grad;
      const int64_t         d     = static_cast<int64_t>(conv.options().n_modes().size());
      const auto            x     = sample(v, d, n).to(device, torch::kFloat).unsqueeze(0).unsqueeze(0);
      const PrecisionPolicy saved = policy;
      try
        {
          policy                   = PrecisionPolicy{};
          const torch::Tensor full = conv.forward(x);
          policy                   = reduced;
          const torch::Tensor low  = conv.forward(x);
          policy                   = saved;
          return (full.to(torch::kDouble) - low.to(torch::kDouble)).abs().max().item<double>();
        }
      catch (...)
        {
          policy = saved;
          throw;
        }
    }
  } // namespace error_bounds
} // namespace mpno
