// SpectralConv's weight: initialisation, the dense or factorized weight of the kept
// modes, and the contraction with it (contract_modes, contract_complex).
#include <mpno/surrogate/spectral_conv.h>

#include <torch/torch.h>

#include <cmath>
#include <string>

namespace mpno
{
  namespace
  {
    /** The block of the kept modes along @p axis of a stored real [..., 2] weight or
     *  factor: non-last mode axes hold ceil(m/2) non-negative frequencies followed by
     *  m/2 negative ones (k = -m/2 .. -1); the last holds k = 0 .. m/2. */
    torch::Tensor
    weight_modes(const torch::Tensor &w,
                 const int64_t        axis,
                 const int64_t        n_modes,
                 const KeptModes     &kept,
                 const bool           last_axis)
    {
      if (last_axis)
        return w.narrow(axis, 0, kept.n_positive);
      const int64_t stored_positive = n_modes - n_modes / 2;
      if (kept.n_positive == stored_positive && kept.n_negative == n_modes / 2)
        return w;
      if (kept.n_negative == 0)
        return w.narrow(axis, 0, kept.n_positive);
      return torch::cat({w.narrow(axis, 0, kept.n_positive),
                         w.narrow(axis, n_modes - kept.n_negative, kept.n_negative)},
                        axis);
    }
  } // namespace

  void
  SpectralConvImpl::reset_parameters()
  {
    torch::NoGradGuard no_grad;
    // Complex normal with variance 2 / (in + out): each real component has half of it.
    const double std_component =
      std::sqrt(2. / static_cast<double>(options_.in_channels() + options_.out_channels())) / std::sqrt(2.);
    if (weight.defined())
      weight.normal_(0., std_component);
    for (std::size_t f = 0; f < factors.size(); ++f)
      if (factor_layout_[f].std == 0.) // CP weights: 1 + 0i
        {
          factors[f].zero_();
          factors[f].select(-1, 0).fill_(1.);
        }
      else
        factors[f].normal_(0., factor_layout_[f].std / std::sqrt(2.));
    if (bias.defined())
      bias.zero_();
  }

  int64_t
  SpectralConvImpl::n_weight_parameters() const
  {
    int64_t n = weight.defined() ? weight.numel() : 0;
    for (const auto &factor : factors)
      n += factor.numel();
    return n;
  }

  torch::Tensor
  SpectralConvImpl::dense_weight() const
  {
    if (factorization_ == Factorization::dense)
      return weight;
    std::vector<torch::Tensor> operands;
    std::vector<std::string>   labels;
    for (std::size_t f = 0; f < factors.size(); ++f)
      {
        operands.push_back(torch::view_as_complex(factors[f]));
        labels.push_back(factor_layout_[f].labels);
      }
    const auto d = options_.n_modes().size();
    return torch::view_as_real(contract_complex(operands, labels, weight_labels(d), torch::kFloat));
  }

  torch::Tensor
  SpectralConvImpl::contract_kept(const torch::Tensor          &spectrum,
                                  const std::vector<KeptModes> &kept,
                                  const torch::Dtype            type) const
  {
    const auto       &m      = options_.n_modes();
    const int64_t     d      = static_cast<int64_t>(m.size());
    const std::string labels = weight_labels(m.size());
    const int64_t     batch  = spectrum.size(0);
    const int64_t     I = options_.in_channels(), O = options_.out_channels();
    // The kept-mode block of every weight axis labelled as mode j (labels "io" + "klm").
    const auto restrict_modes = [&](torch::Tensor t, const std::string &axes) {
      for (std::size_t axis = 0; axis < axes.size(); ++axis)
        {
          const auto position = labels.find(axes[axis]);
          if (position == std::string::npos || position < 2)
            continue;
          const int64_t j = static_cast<int64_t>(position) - 2;
          t               = weight_modes(t, static_cast<int64_t>(axis), m[j], kept[j], j == d - 1);
        }
      return t;
    };

    std::vector<torch::Tensor> operands;
    std::vector<std::string>   factor_labels;
    for (std::size_t f = 0; f < factors.size(); ++f)
      {
        operands.push_back(torch::view_as_complex(restrict_modes(factors[f], factor_layout_[f].labels)));
        factor_labels.push_back(factor_layout_[f].labels);
      }

    if (factorization_ != Factorization::dense && !reconstructed_)
      {
        // x [n, i, k, l, m] with the factors straight to [n, o, k, l, m], planned order.
        operands.insert(operands.begin(), spectrum);
        factor_labels.insert(factor_labels.begin(), "ni" + labels.substr(2));
        return contract_complex(operands, factor_labels, "no" + labels.substr(2), type);
      }

    // Dense weight of the kept modes [I, O, K_1.. K_d], complex; then one batched GEMM per
    // mode: [M, B, I] x [M, I, O] -> [M, B, O].
    const torch::Tensor  w       = factorization_ == Factorization::dense ?
                                     torch::view_as_complex(restrict_modes(weight, labels)) :
                                     contract_complex(operands, factor_labels, labels, torch::kFloat);
    std::vector<int64_t> y_shape = {batch, O};
    for (const auto &k : kept)
      y_shape.push_back(k.count());
    const torch::Tensor x_modes = spectrum.reshape({batch, I, -1}).permute({2, 0, 1});
    const torch::Tensor w_modes = w.reshape({I, O, -1}).permute({2, 0, 1});
    return contract_modes(x_modes, w_modes, type).permute({1, 2, 0}).reshape(y_shape);
  }

  torch::Tensor
  contract_modes(const torch::Tensor &x, const torch::Tensor &w, const torch::Dtype type)
  {
    // [x_re | x_im] [[w_re, w_im], [-w_im, w_re]] = [x_re w_re - x_im w_im | x_re w_im + x_im w_re]
    const torch::Tensor xr = gemm_operand(torch::real(x), type), xi = gemm_operand(torch::imag(x), type);
    const torch::Tensor wr = gemm_operand(torch::real(w), type), wi = gemm_operand(torch::imag(w), type);
    const torch::Tensor x_planes = torch::cat({xr, xi}, -1);
    const torch::Tensor w_planes = torch::cat({torch::cat({wr, wi}, -1), torch::cat({-wi, wr}, -1)}, -2);
    // The result in the GEMM's type (as a native reduced GEMM returns it), then float32.
    const torch::Tensor y = torch::bmm(x_planes, w_planes).to(type);
    const int64_t       O = w.size(-1);
    return torch::complex(y.narrow(-1, 0, O).to(torch::kFloat), y.narrow(-1, O, O).to(torch::kFloat));
  }
} // namespace mpno
