#pragma once

#include <mpno/surrogate/fno_block.h>
#include <mpno/surrogate/gno.h>
#include <mpno/surrogate/neighbor_search.h>
#include <mpno/surrogate/neural_operator.h>
#include <mpno/surrogate/precision.h>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * The configuration of a GINO, with neuraloperator's parameter names
   * (neuralop/models/gino.py, method.md Sec. 4.3) and defaults. Everything needed to
   * rebuild the model: it is stored in every checkpoint.
   */
  struct GINOOptions
  {
    /** Channels of the input function x on the input points; 0: none, the input GNO then
     *  computes the kernel-only integral int k(x, y) dy of the geometry alone (car-CFD). */
    int64_t in_channels = 0;
    /** Channels of the output at the query points (e.g. 1 for the pressure). */
    int64_t out_channels = 1;
    /** Extra channels on the latent grid appended to the input GNO's output, e.g. 1 for
     *  the signed distance to the geometry; 0: none. */
    int64_t latent_feature_channels = 0;
    /** Dimension d of all points (2 or 3); the latent grid has d axes. */
    int64_t gno_coord_dim = 3;
    /** Neighbourhood radius of the input GNO (input points -> latent grid), in the
     *  units of the coordinates. */
    double in_gno_radius = 0.033;
    /** Neighbourhood radius of the output GNO (latent grid -> output queries). */
    double out_gno_radius = 0.033;
    /** "transformer" | "nerf" | "none": the sinusoidal embedding of the kernels' coordinates. */
    std::string gno_pos_embed_type = "transformer";
    /** Frequencies per coordinate of that embedding. */
    int64_t gno_embed_channels      = 32;
    double  gno_embed_max_positions = 10000.;
    /** Hidden widths of the input GNO's kernel MLP. */
    std::vector<int64_t> in_gno_channel_mlp_hidden_layers = {80, 80, 80};
    /** Hidden widths of the output GNO's kernel MLP. */
    std::vector<int64_t> out_gno_channel_mlp_hidden_layers = {512, 256};
    /** "linear_kernelonly" (required when in_channels = 0) | "linear" | "nonlinear". */
    std::string in_gno_transform_type = "linear_kernelonly";
    /** "linear" | "nonlinear" (the latent field is the integrand). */
    std::string out_gno_transform_type = "linear";
    /** "mean" | "sum"; neuraloperator fixes mean for the input and sum for the output GNO. */
    std::string in_gno_reduction  = "mean";
    std::string out_gno_reduction = "sum";
    /** tanh on the latent field before the output GNO (neuraloperator's out_gno_tanh =
     *  "latent_embed"). */
    bool out_gno_tanh = false;
    /** Width of the input GNO's output when it is kernel-only (otherwise in_channels);
     *  the FNO's lifting sees it plus latent_feature_channels. */
    int64_t fno_in_channels = 3;
    /** Modes per latent axis; exactly gno_coord_dim entries. */
    std::vector<int64_t> fno_n_modes               = {16, 16, 16};
    int64_t              fno_hidden_channels       = 64;
    int64_t              fno_n_layers              = 4;
    double               fno_lifting_channel_ratio = 2.;
    double               fno_channel_mlp_expansion = 0.5;
    /** "linear" | "soft-gating" | "identity". */
    std::string fno_skip             = "linear";
    std::string fno_channel_mlp_skip = "soft-gating";
    /** "none" | "group_norm". */
    std::string fno_norm = "none";
    /** "dense" | "tucker" | "cp" | "tt", as FNOOptions::factorization. */
    std::string fno_factorization  = "dense";
    double      fno_rank           = 1.;
    std::string fno_implementation = "factorized";
    /** Hidden width of the projection ChannelMLP at the output points. */
    int64_t projection_channels = 256;

    /** Throws std::invalid_argument naming the first invalid entry. */
    void
    validate() const;
    /** Serialise as "key = value" lines; from_text() reads them back. */
    std::string
    to_text() const;
    /** Throws std::invalid_argument naming an unknown key, a missing one (in_channels,
     *  out_channels, gno_coord_dim, fno_n_modes, fno_hidden_channels, fno_n_layers) or a
     *  bad value. */
    static GINOOptions
    from_text(const std::string &text);
    /** Channels of the input GNO's output: in_channels, or fno_in_channels when 0. */
    int64_t
    in_gno_out_channels() const
    {
      return in_channels > 0 ? in_channels : fno_in_channels;
    }
  };

  /**
   * One instance (one geometry) of GINO's input, neuraloperator's forward arguments
   * without their batch axis; float32 or float64 coordinates, any device.
   */
  struct GINOInput
  {
    /** [n_in, d] the input point cloud, e.g. a mesh's vertices. */
    torch::Tensor input_geom;
    /** [g_1, ..., g_d, d] the latent grid's coordinates (a regular grid enclosing the
     *  geometry, e.g. car-CFD's `query_points`). */
    torch::Tensor latent_queries;
    /** [n_out, d] the points where the output is wanted. */
    torch::Tensor output_queries;
    /** [n_in, in_channels] the input function; undefined when in_channels = 0. */
    torch::Tensor x;
    /** [g_1, ..., g_d, latent_feature_channels], e.g. the signed distance; undefined when
     *  latent_feature_channels = 0. */
    torch::Tensor latent_features;
    /** The neighbour graphs; found by GINOImpl::find_neighbors() when empty. Keep them
     *  (call find_neighbors() once) to train repeatedly on the same geometry. */
    Neighbors in_neighbors;  ///< latent grid points -> input points within in_gno_radius
    Neighbors out_neighbors; ///< output queries -> latent grid points within out_gno_radius
  };

  /**
   * The geometry-informed neural operator (Li et al., NeurIPS 2023; neuraloperator
   * models/gino.py; method.md Sec. 4.3):
   *
   *   input GNO (input points -> latent grid, mean) -> concatenate latent features ->
   *   lifting ChannelMLP (3 layers) -> fno_n_layers FNO blocks -> [tanh] ->
   *   output GNO (latent grid -> output queries, sum) -> projection ChannelMLP.
   *
   * Submodules carry neuraloperator's names: `gno_in`, `lifting`, `fno_blocks`,
   * `gno_out`, `projection`. The latent FNO follows the precision policy exactly as
   * FNOImpl (spectral precision, stabilizer, autocast for lifting, skips, channel MLPs
   * and projection); under autocast the GNOs' kernel MLPs run in the reduced type too,
   * their products with f and the segment reductions in float32 (GNOBlockImpl).
   * On CUDA with half spectral precision the latent grid must have power-of-two sizes
   * (half cuFFT); forward refuses any other grid with UnsupportedPrecision.
   *
   * Batching: forward_batch() packs instances of different point counts one after the
   * other (pack_neighbors()), one segment reduction per GNO; the latent grids are
   * stacked along the FNO's batch axis, so every instance of one call must share the
   * latent grid shape.
   */
  class GINOImpl : public NeuralOperator
  {
  public:
    explicit GINOImpl(const GINOOptions &options, const PrecisionPolicy &precision = {});

    /**
     * One instance. @return [n_out, out_channels] float32, on the device of the model.
     * @throws std::invalid_argument for shapes that do not match the options (naming the
     *   argument), UnsupportedPrecision for a precision the device cannot run on this
     *   latent grid.
     */
    torch::Tensor
    forward(const GINOInput &input);

    /** Several instances in one pass; result k is forward(inputs[k]) (up to the order of
     *  floating-point sums). @throws as forward(), and std::invalid_argument when the
     *  latent grid shapes differ. */
    std::vector<torch::Tensor>
    forward_batch(const std::vector<GINOInput> &inputs);

    /** Fill in_neighbors and out_neighbors of @p input (if empty) by radius_neighbors(). */
    void
    find_neighbors(GINOInput &input) const;

    /** GINO has no grid-to-grid form: throws std::logic_error pointing to
     *  forward(const GINOInput &). */
    torch::Tensor
    forward(torch::Tensor x) override;

    void
    set_precision(const PrecisionPolicy &precision) override;

    const PrecisionPolicy &
    precision() const override
    {
      return *precision_;
    }

    /** "gino" (rebuilt through make_neural_operator()). */
    std::string
    model_name() const override
    {
      return "gino";
    }

    std::string
    config_text() const override
    {
      return options_.to_text();
    }

    const GINOOptions &
    options() const
    {
      return options_;
    }

    GNOBlock   gno_in{nullptr};
    ChannelMLP lifting{nullptr};
    FNOBlocks  fno_blocks{nullptr};
    GNOBlock   gno_out{nullptr};
    ChannelMLP projection{nullptr};

  private:
    /** Throws std::invalid_argument naming the first argument of @p input of a wrong shape. */
    void
    check_input(const GINOInput &input) const;

    GINOOptions                      options_;
    std::shared_ptr<PrecisionPolicy> precision_;
  };
  TORCH_MODULE(GINO);
} // namespace mpno
