// The GNO integral transform: sinusoidal embedding, kernel MLP, CSR segment reduction.
#include <mpno/surrogate/gno.h>
#include <mpno/surrogate/io_utils.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace mpno
{
  SinusoidalEmbeddingImpl::SinusoidalEmbeddingImpl(const int64_t      in_channels,
                                                   const int64_t      num_frequencies,
                                                   const std::string &embedding_type,
                                                   const double       max_positions)
    : in_channels_(in_channels)
    , num_frequencies_(num_frequencies)
  {
    if (in_channels < 1 || num_frequencies < 1)
      throw std::invalid_argument("SinusoidalEmbedding: in_channels and num_frequencies must be >= 1, got " +
                                  std::to_string(in_channels) + " and " + std::to_string(num_frequencies));
    const auto k = torch::arange(num_frequencies, torch::kDouble);
    if (embedding_type == "nerf")
      frequencies_ = torch::pow(2., k) * M_PI;
    else if (embedding_type == "transformer")
      {
        if (!(max_positions > 0))
          throw std::invalid_argument("SinusoidalEmbedding: max_positions must be > 0, got " +
                                      std::to_string(max_positions));
        frequencies_ = torch::pow(1. / max_positions, k * (2. / static_cast<double>(num_frequencies)));
      }
    else
      throw std::invalid_argument("SinusoidalEmbedding: embedding_type must be transformer or nerf, got '" +
                                  embedding_type + "'");
  }

  torch::Tensor
  SinusoidalEmbeddingImpl::forward(const torch::Tensor &p)
  {
    if (p.dim() != 2 || p.size(1) != in_channels_)
      throw std::invalid_argument("SinusoidalEmbedding: expected [n, " + std::to_string(in_channels_) + "], got " +
                                  io::shape_to_string(p.sizes()));
    const auto phase = p.unsqueeze(2) * frequencies_.to(p.options()); // [n, c, L]
    return torch::stack({torch::sin(phase), torch::cos(phase)}, 3).reshape({p.size(0), out_channels()});
  }

  LinearChannelMLPImpl::LinearChannelMLPImpl(const std::vector<int64_t> &widths)
  {
    if (widths.size() < 2)
      throw std::invalid_argument("LinearChannelMLP: expected at least 2 widths, got " + std::to_string(widths.size()));
    for (const int64_t w : widths)
      if (w < 1)
        throw std::invalid_argument("LinearChannelMLP: every width must be >= 1, got " + std::to_string(w));
    fcs = register_module("fcs", torch::nn::ModuleList());
    for (std::size_t k = 0; k + 1 < widths.size(); ++k)
      fcs->push_back(torch::nn::Linear(widths[k], widths[k + 1]));
  }

  torch::Tensor
  LinearChannelMLPImpl::forward(torch::Tensor x)
  {
    const auto first = fcs[0]->as<torch::nn::Linear>();
    return forward_after_first(
      torch::nn::functional::linear(x, first->weight.to(x.scalar_type()), first->bias.to(x.scalar_type())));
  }

  torch::Tensor
  LinearChannelMLPImpl::forward_after_first(torch::Tensor hidden)
  {
    for (std::size_t k = 1; k < fcs->size(); ++k)
      {
        const auto layer = fcs[k]->as<torch::nn::Linear>();
        hidden           = torch::nn::functional::linear(torch::gelu(hidden),
                                               layer->weight.to(hidden.scalar_type()),
                                               layer->bias.to(hidden.scalar_type()));
      }
    return hidden;
  }

  torch::Tensor
  segment_reduce(const torch::Tensor &values, const torch::Tensor &row_splits, const std::string &reduction)
  {
    if (reduction != "sum" && reduction != "mean")
      throw std::invalid_argument("segment_reduce: reduction must be sum or mean, got '" + reduction + "'");
    const torch::Tensor splits = row_splits.to(values.device(), torch::kLong);
    const int64_t       n_rows = splits.size(0) - 1;
    const torch::Tensor counts = splits.slice(0, 1) - splits.slice(0, 0, n_rows);
    if (values.size(0) != splits[-1].item<int64_t>())
      throw std::invalid_argument("segment_reduce: " + std::to_string(values.size(0)) + " values but the graph has " +
                                  std::to_string(splits[-1].item<int64_t>()) + " entries");
    const torch::Tensor rows =
      torch::repeat_interleave(torch::arange(n_rows, splits.options()), counts, 0, values.size(0));
    torch::Tensor out = torch::zeros({n_rows, values.size(1)}, values.options()).index_add(0, rows, values);
    if (reduction == "mean")
      out = out / counts.clamp_min(1).to(values.scalar_type()).unsqueeze(1);
    return out;
  }

  void
  GNOBlockOptions::validate() const
  {
    if (in_channels < 1 || out_channels < 1)
      throw std::invalid_argument("GNO: in_channels and out_channels must be >= 1, got " + std::to_string(in_channels) +
                                  " and " + std::to_string(out_channels));
    if (coord_dim != 2 && coord_dim != 3)
      throw std::invalid_argument("GNO: coord_dim must be 2 or 3, got " + std::to_string(coord_dim));
    if (transform_type != "linear" && transform_type != "linear_kernelonly" && transform_type != "nonlinear")
      throw std::invalid_argument("GNO: transform_type must be linear, linear_kernelonly or nonlinear, got '" +
                                  transform_type + "'");
    if (transform_type != "linear_kernelonly" && out_channels != in_channels)
      throw std::invalid_argument("GNO: the " + transform_type +
                                  " transform multiplies f(y) by a diagonal kernel, "
                                  "so out_channels must equal in_channels, got " +
                                  std::to_string(out_channels) + " and " + std::to_string(in_channels));
    if (reduction != "mean" && reduction != "sum")
      throw std::invalid_argument("GNO: reduction must be mean or sum, got '" + reduction + "'");
    if (pos_embedding_type != "transformer" && pos_embedding_type != "nerf" && pos_embedding_type != "none")
      throw std::invalid_argument("GNO: pos_embedding_type must be transformer, nerf or none, got '" +
                                  pos_embedding_type + "'");
    if (pos_embedding_type != "none" && pos_embedding_channels < 1)
      throw std::invalid_argument("GNO: pos_embedding_channels must be >= 1, got " +
                                  std::to_string(pos_embedding_channels));
    for (const int64_t w : channel_mlp_layers)
      if (w < 1)
        throw std::invalid_argument("GNO: every channel_mlp_layers width must be >= 1, got " + std::to_string(w));
  }

  int64_t
  GNOBlockOptions::kernel_in_channels() const
  {
    const int64_t per_point = pos_embedding_type == "none" ? coord_dim : 2 * pos_embedding_channels * coord_dim;
    return 2 * per_point + (transform_type == "nonlinear" ? in_channels : 0);
  }

  GNOBlockImpl::GNOBlockImpl(const GNOBlockOptions &options, std::shared_ptr<const PrecisionPolicy> precision)
    : options_(options)
    , precision_(std::move(precision))
  {
    options_.validate();
    if (options_.pos_embedding_type != "none")
      pos_embedding = register_module("pos_embedding",
                                      SinusoidalEmbedding(options_.coord_dim,
                                                          options_.pos_embedding_channels,
                                                          options_.pos_embedding_type,
                                                          options_.pos_embedding_max_positions));
    std::vector<int64_t> widths = {options_.kernel_in_channels()};
    widths.insert(widths.end(), options_.channel_mlp_layers.begin(), options_.channel_mlp_layers.end());
    widths.push_back(options_.out_channels);
    channel_mlp = register_module("channel_mlp", LinearChannelMLP(widths));
  }

  torch::Tensor
  GNOBlockImpl::forward(const torch::Tensor &y,
                        const torch::Tensor &x,
                        const Neighbors     &neighbors,
                        const torch::Tensor &f_y)
  {
    const int64_t d = options_.coord_dim;
    if (y.dim() != 2 || y.size(1) != d || x.dim() != 2 || x.size(1) != d)
      throw std::invalid_argument("GNO: expected y [n_y, " + std::to_string(d) + "] and x [n_x, " + std::to_string(d) +
                                  "], got " + io::shape_to_string(y.sizes()) + " and " +
                                  io::shape_to_string(x.sizes()));
    if (neighbors.n_queries() != x.size(0))
      throw std::invalid_argument("GNO: the neighbour graph has " + std::to_string(neighbors.n_queries()) +
                                  " queries but x has " + std::to_string(x.size(0)) + " points");
    const bool uses_f = options_.transform_type != "linear_kernelonly";
    if (uses_f && (!f_y.defined() || f_y.dim() != 2 || f_y.size(0) != y.size(0) || f_y.size(1) != options_.in_channels))
      throw std::invalid_argument("GNO: the " + options_.transform_type + " transform needs f_y [" +
                                  std::to_string(y.size(0)) + ", " + std::to_string(options_.in_channels) + "], got " +
                                  (f_y.defined() ? io::shape_to_string(f_y.sizes()) : "none"));

    const auto          device = x.device();
    const torch::Tensor index  = neighbors.neighbors_index.to(device);
    const torch::Tensor splits = neighbors.row_splits.to(device);
    const torch::Tensor counts = splits.slice(0, 1) - splits.slice(0, 0, splits.size(0) - 1);

    // The first kernel layer W [e(y), e(x), f(y)] + b = W_y [e(y), f(y)] + W_x e(x) + b:
    // each part once per point that has a pair (a latent grid is mostly far from a
    // surface), then gathered to the pairs: y_j by index, x_i repeated over its row.
    const auto dtype = precision_ ? precision_->activation_dtype(device) : torch::kFloat;
    const auto first = channel_mlp->fcs[0]->as<torch::nn::Linear>();
    const auto w     = first->weight.to(dtype);
    const auto embed = [&](const torch::Tensor &points) {
      const torch::Tensor p = points.to(device, torch::kFloat);
      return pos_embedding ? pos_embedding->forward(p) : p;
    };
    const auto [used_y, pair_y, unused_counts] = at::_unique2(index, /*sorted=*/true, /*return_inverse=*/true);
    const torch::Tensor ey                     = embed(y.index_select(0, used_y.to(y.device())));
    const int64_t       p                      = ey.size(1);
    torch::Tensor       y_part = torch::nn::functional::linear(ey.to(dtype), w.narrow(1, 0, p), first->bias.to(dtype));
    torch::Tensor       f_pairs;
    if (uses_f)
      {
        const torch::Tensor f_used = f_y.to(device, torch::kFloat).index_select(0, used_y);
        if (options_.transform_type == "nonlinear")
          y_part = y_part + torch::nn::functional::linear(f_used.to(dtype), w.narrow(1, 2 * p, options_.in_channels));
        f_pairs = f_used.index_select(0, pair_y);
      }
    const torch::Tensor with_pairs = (counts > 0).nonzero().squeeze(1);
    const torch::Tensor x_part =
      torch::nn::functional::linear(embed(x.index_select(0, with_pairs.to(x.device()))).to(dtype), w.narrow(1, p, p));
    const torch::Tensor hidden = y_part.index_select(0, pair_y) +
                                 torch::repeat_interleave(x_part, counts.index_select(0, with_pairs), 0, index.size(0));
    torch::Tensor integrand = channel_mlp->forward_after_first(hidden).to(torch::kFloat);
    if (uses_f)
      integrand = integrand * f_pairs;
    return segment_reduce(integrand, splits, options_.reduction);
  }
} // namespace mpno
