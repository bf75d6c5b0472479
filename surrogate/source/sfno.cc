#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/sfno.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace mpno
{
  SFNOImpl::SFNOImpl(const SFNOOptions &options, const PrecisionPolicy &precision)
    : options_(options)
    , precision_(std::make_shared<PrecisionPolicy>(precision))
  {
    options_.validate();
    grid_                = parse_sphere_grid(options_.grid);
    const int64_t hidden = options_.hidden_channels;
    const int64_t in     = options_.in_channels + (options_.positional_embedding == "grid" ? 2 : 0);
    const auto    scaled = [&](const double ratio) {
      return std::max<int64_t>(1, std::llround(ratio * static_cast<double>(hidden)));
    };
    lifting    = register_module("lifting", ChannelMLP(in, hidden, scaled(options_.lifting_channel_ratio), 2));
    fno_blocks = register_module("fno_blocks",
                                 FNOBlocks(SphericalConvOptions(hidden, hidden, options_.n_modes).grid(grid_),
                                           options_.n_layers,
                                           options_.channel_mlp_expansion,
                                           options_.fno_skip,
                                           options_.channel_mlp_skip,
                                           options_.norm,
                                           precision_));
    projection =
      register_module("projection",
                      ChannelMLP(hidden, options_.out_channels, scaled(options_.projection_channel_ratio), 2));
  }

  void
  SFNOImpl::set_precision(const PrecisionPolicy &precision)
  {
    *precision_ = precision;
  }

  int64_t
  SFNOImpl::n_spectral_parameters() const
  {
    int64_t n = 0;
    for (const auto &conv : fno_blocks->spherical_convs)
      n += conv->weight.numel();
    return n;
  }

  torch::Tensor
  SFNOImpl::grid_embedding(const torch::Tensor &x)
  {
    const int64_t              nlat = x.size(2), nlon = x.size(3);
    const std::vector<int64_t> key   = {nlat, nlon, static_cast<int64_t>(x.device().type()), x.device().index()};
    auto                       found = grid_cache_.find(key);
    if (found == grid_cache_.end())
      {
        std::vector<double> colatitude;
        for (const double c : latitude_quadrature(grid_, nlat).cos_theta)
          colatitude.push_back(std::acos(c) / M_PI);
        const auto options   = torch::TensorOptions(torch::kFloat).device(x.device());
        const auto latitude  = torch::tensor(colatitude, torch::kDouble).to(options);
        const auto longitude = torch::arange(nlon, options) / static_cast<double>(nlon);
        found = grid_cache_.emplace(key, torch::stack(torch::meshgrid({latitude, longitude}, "ij")).unsqueeze(0)).first;
      }
    return torch::cat({x.to(torch::kFloat), found->second.expand({x.size(0), 2, nlat, nlon})}, 1);
  }

  torch::Tensor
  SFNOImpl::forward(torch::Tensor x)
  {
    if (x.dim() != 4 || x.size(1) != options_.in_channels)
      throw std::invalid_argument("SFNO: expected input [batch, " + std::to_string(options_.in_channels) +
                                  ", nlat, nlon], got " + io::shape_to_string(x.sizes()));
    if (grid_ == SphereGrid::equiangular && x.size(2) < 2)
      throw std::invalid_argument("SFNO: an equiangular grid needs nlat >= 2 (both poles), got " +
                                  std::to_string(x.size(2)));
    // Refuse what the device cannot do before any work, as FNOImpl::forward.
    precision_->check_supported(x.device(), {});
    if (options_.positional_embedding == "grid")
      x = grid_embedding(x);
    x = lifting->forward(x.to(precision_->activation_dtype(x.device())));
    for (int64_t i = 0; i < fno_blocks->n_layers(); ++i)
      x = fno_blocks->forward(x, i);
    return projection->forward(x).to(torch::kFloat);
  }
} // namespace mpno
