#include <mpno/surrogate/fno_block.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace mpno
{
  torch::Tensor
  channel_linear(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias)
  {
    const auto    type  = x.scalar_type();
    const int64_t batch = x.size(0);
    const int64_t in = weight.size(1), out = weight.size(0);
    if (x.size(1) != in)
      throw std::invalid_argument("channel map: expected " + std::to_string(in) + " input channels, got " +
                                  std::to_string(x.size(1)));
    // One batched GEMM [out, in] x [in, n_1 ... n_d] per sample: the spatial axis is the
    // long, contiguous one (faster than Conv1d or a broadcasting matmul on this CPU).
    torch::Tensor y = torch::bmm(weight.to(type).unsqueeze(0).expand({batch, out, in}), x.reshape({batch, in, -1}));
    if (bias.defined())
      y = y + bias.to(type).view({1, out, 1});
    auto shape = x.sizes().vec();
    shape[1]   = out;
    return y.view(shape);
  }

  ChannelLinearImpl::ChannelLinearImpl(const int64_t in_channels, const int64_t out_channels, const bool with_bias)
  {
    const double bound = 1. / std::sqrt(static_cast<double>(in_channels));
    weight = register_parameter("weight", torch::empty({out_channels, in_channels}).uniform_(-bound, bound));
    if (with_bias)
      bias = register_parameter("bias", torch::empty({out_channels}).uniform_(-bound, bound));
  }

  torch::Tensor
  ChannelLinearImpl::forward(const torch::Tensor &x)
  {
    return channel_linear(x, weight, bias);
  }

  SoftGatingImpl::SoftGatingImpl(const int64_t channels)
  {
    weight = register_parameter("weight", torch::ones({channels}));
  }

  torch::Tensor
  SoftGatingImpl::forward(const torch::Tensor &x)
  {
    std::vector<int64_t> shape(x.dim(), 1);
    shape[1] = weight.size(0);
    return x * weight.to(x.scalar_type()).view(shape);
  }

  ChannelMLPImpl::ChannelMLPImpl(const int64_t in_channels,
                                 const int64_t out_channels,
                                 const int64_t hidden_channels,
                                 const int64_t n_layers)
  {
    if (n_layers < 1)
      throw std::invalid_argument("ChannelMLP: n_layers must be >= 1");
    fcs = register_module("fcs", torch::nn::ModuleList());
    for (int64_t k = 0; k < n_layers; ++k)
      fcs->push_back(
        ChannelLinear(k == 0 ? in_channels : hidden_channels, k == n_layers - 1 ? out_channels : hidden_channels));
  }

  torch::Tensor
  ChannelMLPImpl::forward(torch::Tensor x)
  {
    for (std::size_t k = 0; k < fcs->size(); ++k)
      {
        x = fcs[k]->as<ChannelLinearImpl>()->forward(x);
        if (k + 1 < fcs->size())
          x = torch::gelu(x);
      }
    return x;
  }

  namespace
  {
    torch::nn::AnyModule
    make_skip(const std::string &kind, const int64_t channels, const std::string &entry)
    {
      if (kind == "linear")
        return torch::nn::AnyModule(ChannelLinear(channels, channels, false));
      if (kind == "soft-gating")
        return torch::nn::AnyModule(SoftGating(channels));
      if (kind == "identity")
        return {};
      throw std::invalid_argument(entry + ": expected linear, soft-gating or identity, got '" + kind + "'");
    }

    torch::Tensor
    apply_skip(torch::nn::AnyModule &skip, const torch::Tensor &x)
    {
      return skip.is_empty() ? x : skip.forward(x);
    }
  } // namespace

  FNOBlocksImpl::FNOBlocksImpl(const SpectralConvOptions             &spectral,
                               const int64_t                          n_layers,
                               const double                           channel_mlp_expansion,
                               const std::string                     &fno_skip,
                               const std::string                     &channel_mlp_skip,
                               const std::string                     &norm_kind,
                               std::shared_ptr<const PrecisionPolicy> precision)
    : precision_(std::move(precision))
  {
    build(spectral.in_channels(),
          n_layers,
          channel_mlp_expansion,
          fno_skip,
          channel_mlp_skip,
          norm_kind,
          [&](torch::nn::ModuleListImpl &list) {
            convs.emplace_back(spectral, precision_);
            list.push_back(convs.back());
          });
  }

  FNOBlocksImpl::FNOBlocksImpl(const SphericalConvOptions            &spherical,
                               const int64_t                          n_layers,
                               const double                           channel_mlp_expansion,
                               const std::string                     &fno_skip,
                               const std::string                     &channel_mlp_skip,
                               const std::string                     &norm_kind,
                               std::shared_ptr<const PrecisionPolicy> precision)
    : precision_(std::move(precision))
  {
    build(spherical.in_channels(),
          n_layers,
          channel_mlp_expansion,
          fno_skip,
          channel_mlp_skip,
          norm_kind,
          [&](torch::nn::ModuleListImpl &list) {
            spherical_convs.emplace_back(spherical, precision_);
            list.push_back(spherical_convs.back());
          });
  }

  void
  FNOBlocksImpl::build(const int64_t                                           hidden_channels,
                       const int64_t                                           n_layers,
                       const double                                            channel_mlp_expansion,
                       const std::string                                      &fno_skip,
                       const std::string                                      &channel_mlp_skip,
                       const std::string                                      &norm_kind,
                       const std::function<void(torch::nn::ModuleListImpl &)> &add_conv)
  {
    if (norm_kind != "none" && norm_kind != "group_norm")
      throw std::invalid_argument("norm: expected none or group_norm, got '" + norm_kind + "'");
    const int64_t mlp_hidden =
      std::max<int64_t>(1, std::llround(channel_mlp_expansion * static_cast<double>(hidden_channels)));
    auto convs_list = register_module("convs", torch::nn::ModuleList());
    auto mlp_list   = register_module("channel_mlp", torch::nn::ModuleList());
    auto skip_list  = register_module("fno_skips", torch::nn::ModuleList());
    auto mskip_list = register_module("channel_mlp_skips", torch::nn::ModuleList());
    auto norm_list  = register_module("norm", torch::nn::ModuleList());
    for (int64_t i = 0; i < n_layers; ++i)
      {
        add_conv(*convs_list);
        channel_mlp.emplace_back(hidden_channels, hidden_channels, mlp_hidden, 2);
        mlp_list->push_back(channel_mlp.back());
        fno_skips.push_back(make_skip(fno_skip, hidden_channels, "fno_skip"));
        if (!fno_skips.back().is_empty())
          skip_list->push_back(fno_skips.back().ptr());
        channel_mlp_skips.push_back(make_skip(channel_mlp_skip, hidden_channels, "channel_mlp_skip"));
        if (!channel_mlp_skips.back().is_empty())
          mskip_list->push_back(channel_mlp_skips.back().ptr());
        if (norm_kind == "group_norm")
          for (int k = 0; k < 2; ++k)
            {
              norm.emplace_back(torch::nn::GroupNormOptions(1, hidden_channels));
              norm_list->push_back(norm.back());
            }
      }
  }

  torch::Tensor
  FNOBlocksImpl::forward(torch::Tensor x, const int64_t index)
  {
    const auto activation = precision_->activation_dtype(x.device());
    const bool last       = index + 1 == n_layers();
    const auto i          = static_cast<std::size_t>(index);
    const auto normalize  = [&](const std::size_t k, const torch::Tensor &y) {
      return norm.empty() ? y : norm[2 * i + k]->forward(y.to(torch::kFloat)).to(activation);
    };

    x                   = x.to(activation);
    const auto skip     = apply_skip(fno_skips[i], x);
    const auto mlp_skip = apply_skip(channel_mlp_skips[i], x);

    const torch::Tensor spectral = convs.empty() ? spherical_convs[i]->forward(x) : convs[i]->forward(x);
    x                            = normalize(0, spectral.to(activation)) + skip;
    if (!last)
      x = torch::gelu(x);
    x = normalize(1, channel_mlp[i]->forward(x) + mlp_skip);
    if (!last)
      x = torch::gelu(x);
    return x;
  }
} // namespace mpno
