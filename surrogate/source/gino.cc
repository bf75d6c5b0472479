// GINOImpl: input GNO -> latent FNO -> output GNO -> projection, one or several instances.
#include <mpno/surrogate/gino.h>
#include <mpno/surrogate/io_utils.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace mpno
{
  namespace
  {
    std::string
    shape_of(const torch::Tensor &t)
    {
      return t.defined() ? io::shape_to_string(t.sizes()) : "none";
    }

    /** Throws naming @p name unless @p t is [@p rows, @p columns] (-1: any). */
    void
    require_matrix(const torch::Tensor &t,
                   const char          *name,
                   const int64_t        rows,
                   const int64_t        columns,
                   const std::string   &expected)
    {
      if (!t.defined() || t.dim() != 2 || (rows >= 0 && t.size(0) != rows) || t.size(1) != columns)
        throw std::invalid_argument(std::string("GINO: expected ") + name + " " + expected + ", got " + shape_of(t));
    }
  } // namespace

  GINOImpl::GINOImpl(const GINOOptions &options, const PrecisionPolicy &precision)
    : options_(options)
    , precision_(std::make_shared<PrecisionPolicy>(precision))
  {
    options_.validate();
    const int64_t hidden = options_.fno_hidden_channels;

    GNOBlockOptions in;
    in.in_channels                 = options_.in_channels > 0 ? options_.in_channels : 1;
    in.out_channels                = options_.in_gno_out_channels();
    in.coord_dim                   = options_.gno_coord_dim;
    in.channel_mlp_layers          = options_.in_gno_channel_mlp_hidden_layers;
    in.transform_type              = options_.in_gno_transform_type;
    in.reduction                   = options_.in_gno_reduction;
    in.pos_embedding_type          = options_.gno_pos_embed_type;
    in.pos_embedding_channels      = options_.gno_embed_channels;
    in.pos_embedding_max_positions = options_.gno_embed_max_positions;
    gno_in                         = register_module("gno_in", GNOBlock(in, precision_));

    const int64_t lifting_width =
      std::max<int64_t>(1, std::llround(options_.fno_lifting_channel_ratio * static_cast<double>(hidden)));
    lifting = register_module(
      "lifting",
      ChannelMLP(options_.in_gno_out_channels() + options_.latent_feature_channels, hidden, lifting_width, 3));
    fno_blocks = register_module("fno_blocks",
                                 FNOBlocks(SpectralConvOptions(hidden, hidden, options_.fno_n_modes)
                                             .factorization(options_.fno_factorization)
                                             .rank(options_.fno_rank)
                                             .implementation(options_.fno_implementation),
                                           options_.fno_n_layers,
                                           options_.fno_channel_mlp_expansion,
                                           options_.fno_skip,
                                           options_.fno_channel_mlp_skip,
                                           options_.fno_norm,
                                           precision_));

    GNOBlockOptions out    = in;
    out.in_channels        = hidden;
    out.out_channels       = hidden;
    out.channel_mlp_layers = options_.out_gno_channel_mlp_hidden_layers;
    out.transform_type     = options_.out_gno_transform_type;
    out.reduction          = options_.out_gno_reduction;
    gno_out                = register_module("gno_out", GNOBlock(out, precision_));
    projection =
      register_module("projection", ChannelMLP(hidden, options_.out_channels, options_.projection_channels, 2));
  }

  void
  GINOImpl::set_precision(const PrecisionPolicy &precision)
  {
    *precision_ = precision;
  }

  torch::Tensor
  GINOImpl::forward(torch::Tensor)
  {
    throw std::logic_error("GINO maps point clouds, not grid tensors: call GINOImpl::forward(const GINOInput &) "
                           "or forward_batch() with the input points, latent grid and output queries");
  }

  void
  GINOImpl::check_input(const GINOInput &input) const
  {
    const int64_t d      = options_.gno_coord_dim;
    const auto    points = "[n, " + std::to_string(d) + "]";
    require_matrix(input.input_geom, "input_geom", -1, d, points);
    require_matrix(input.output_queries, "output_queries", -1, d, points);
    const torch::Tensor &latent = input.latent_queries;
    if (!latent.defined() || latent.dim() != d + 1 || latent.size(d) != d)
      throw std::invalid_argument("GINO: expected latent_queries [g_1, ..., g_" + std::to_string(d) + ", " +
                                  std::to_string(d) + "], got " + shape_of(latent));
    const int64_t n_in = input.input_geom.size(0);
    if (options_.in_channels > 0)
      require_matrix(input.x,
                     "x",
                     n_in,
                     options_.in_channels,
                     "[" + std::to_string(n_in) + ", " + std::to_string(options_.in_channels) + "]");
    else if (input.x.defined())
      throw std::invalid_argument("GINO: in_channels = 0, but an input function x " + shape_of(input.x) + " was given");
    if (options_.latent_feature_channels > 0)
      {
        auto expected = latent.sizes().vec();
        expected[d]   = options_.latent_feature_channels;
        if (!input.latent_features.defined() || input.latent_features.sizes().vec() != expected)
          throw std::invalid_argument("GINO: expected latent_features " + io::shape_to_string(expected) + ", got " +
                                      shape_of(input.latent_features));
      }
    else if (input.latent_features.defined())
      throw std::invalid_argument("GINO: latent_feature_channels = 0, but latent_features " +
                                  shape_of(input.latent_features) + " were given");
  }

  void
  GINOImpl::find_neighbors(GINOInput &input) const
  {
    check_input(input);
    if (!input.in_neighbors.row_splits.defined())
      input.in_neighbors = radius_neighbors(input.input_geom,
                                            input.latent_queries.reshape({-1, options_.gno_coord_dim}),
                                            options_.in_gno_radius);
    if (!input.out_neighbors.row_splits.defined())
      input.out_neighbors = radius_neighbors(input.latent_queries.reshape({-1, options_.gno_coord_dim}),
                                             input.output_queries,
                                             options_.out_gno_radius);
  }

  torch::Tensor
  GINOImpl::forward(const GINOInput &input)
  {
    return forward_batch({input}).front();
  }

  std::vector<torch::Tensor>
  GINOImpl::forward_batch(const std::vector<GINOInput> &inputs)
  {
    if (inputs.empty())
      return {};
    const int64_t d      = options_.gno_coord_dim;
    const int64_t hidden = options_.fno_hidden_channels;
    const auto    device = parameters().front().device();
    for (const auto &input : inputs)
      check_input(input);
    const std::vector<int64_t> grid(inputs.front().latent_queries.sizes().begin(),
                                    inputs.front().latent_queries.sizes().begin() + d);
    for (const auto &input : inputs)
      if (input.latent_queries.sizes().slice(0, d).vec() != grid)
        throw std::invalid_argument("GINO: forward_batch needs one latent grid shape for all instances, got " +
                                    io::shape_to_string(grid) + " and " +
                                    io::shape_to_string(input.latent_queries.sizes().slice(0, d)));
    try
      {
        precision_->check_supported(device, grid);
      }
    catch (const UnsupportedPrecision &error)
      {
        throw UnsupportedPrecision("GINO latent grid " + io::shape_to_string(grid) + ": " + error.what());
      }

    // Pack the instances one after the other (pack_neighbors()).
    const int64_t              n_latent = inputs.front().latent_queries.numel() / d;
    const int64_t              batch    = static_cast<int64_t>(inputs.size());
    std::vector<Neighbors>     in_graphs, out_graphs;
    std::vector<int64_t>       n_in, n_latent_each(inputs.size(), n_latent), n_out;
    std::vector<torch::Tensor> geometry, latent, queries, functions, features;
    for (const auto &input : inputs)
      {
        GINOInput local = input;
        find_neighbors(local);
        in_graphs.push_back(local.in_neighbors);
        out_graphs.push_back(local.out_neighbors);
        n_in.push_back(input.input_geom.size(0));
        n_out.push_back(input.output_queries.size(0));
        geometry.push_back(input.input_geom.to(device, torch::kFloat));
        latent.push_back(input.latent_queries.reshape({-1, d}).to(device, torch::kFloat));
        queries.push_back(input.output_queries.to(device, torch::kFloat));
        if (input.x.defined())
          functions.push_back(input.x.to(device, torch::kFloat));
        if (input.latent_features.defined())
          features.push_back(input.latent_features.to(device, torch::kFloat));
      }
    const torch::Tensor latent_points = torch::cat(latent);

    // Input GNO onto the latent grids: [batch * n_latent, c] -> [batch, c, g_1.. g_d].
    torch::Tensor        latent_field = gno_in->forward(torch::cat(geometry),
                                                 latent_points,
                                                 pack_neighbors(in_graphs, n_in),
                                                 functions.empty() ? torch::Tensor() : torch::cat(functions));
    std::vector<int64_t> grid_shape   = {batch};
    grid_shape.insert(grid_shape.end(), grid.begin(), grid.end());
    grid_shape.push_back(-1);
    latent_field = latent_field.reshape(grid_shape);
    if (!features.empty())
      latent_field = torch::cat({latent_field, torch::stack(features)}, -1);
    std::vector<int64_t> channels_first = {0, d + 1};
    for (int64_t j = 1; j <= d; ++j)
      channels_first.push_back(j);
    latent_field = latent_field.permute(channels_first);

    // The latent FNO under the precision policy, as FNOImpl::forward.
    torch::Tensor z = lifting->forward(latent_field.to(precision_->activation_dtype(device)));
    for (int64_t i = 0; i < fno_blocks->n_layers(); ++i)
      z = fno_blocks->forward(z, i);
    std::vector<int64_t> channels_last = {0};
    for (int64_t j = 2; j <= d + 1; ++j)
      channels_last.push_back(j);
    channels_last.push_back(1);
    z = z.to(torch::kFloat).permute(channels_last).reshape({batch * n_latent, hidden});
    if (options_.out_gno_tanh)
      z = torch::tanh(z);

    // Output GNO to the query points, then the pointwise projection.
    torch::Tensor out =
      gno_out->forward(latent_points, torch::cat(queries), pack_neighbors(out_graphs, n_latent_each), z);
    out = projection->forward(out.t().unsqueeze(0).to(precision_->activation_dtype(device)))
            .squeeze(0)
            .t()
            .to(torch::kFloat);
    return out.split_with_sizes(n_out, 0);
  }
} // namespace mpno
