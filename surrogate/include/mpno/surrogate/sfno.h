#pragma once

#include <mpno/surrogate/fno_block.h>
#include <mpno/surrogate/neural_operator.h>
#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/spherical_harmonics.h>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * The configuration of an SFNO, with neuraloperator's parameter names (neuralop/models/
   * sfno.py: the FNO's, with SphericalConv as conv_module and dense weights) and
   * defaults. Everything needed to rebuild the model: it is stored in every checkpoint.
   * No domain padding (the sphere has no boundary) and no factorization.
   */
  struct SFNOOptions
  {
    /** (lmax, m): degrees l < lmax, orders m < m / 2, as SphericalConv's n_modes; exactly
     *  2 entries. neuraloperator's example uses (16, 32) on a 32 x 64 grid. */
    std::vector<int64_t> n_modes                  = {16, 32};
    int64_t              in_channels              = 1;
    int64_t              out_channels             = 1;
    int64_t              hidden_channels          = 64;
    int64_t              n_layers                 = 4;
    double               lifting_channel_ratio    = 2.;
    double               projection_channel_ratio = 2.;
    /** Hidden width of the channel MLP in each block relative to hidden_channels. */
    double channel_mlp_expansion = 0.5;
    /** "linear" | "soft-gating" | "identity". */
    std::string fno_skip = "linear";
    /** "linear" | "soft-gating" | "identity". */
    std::string channel_mlp_skip = "soft-gating";
    /** "none" | "group_norm" (GroupNorm with one group). */
    std::string norm = "none";
    /** "grid" appends 2 channels, colatitude / pi and longitude / (2 pi) of each grid
     *  point (the same function on every resolution, so zero-shot evaluation sees
     *  consistent coordinates; in longitude this is neuraloperator's linspace(0, 1,
     *  n+1)[:-1]); "none" keeps the model rotation-equivariant in longitude. */
    std::string positional_embedding = "grid";
    /** The latitude-longitude grid of the data: "equiangular" | "legendre-gauss"
     *  (neuraloperator's `sht_grids`, one grid for input and output). */
    std::string grid = "equiangular";

    /** Throws std::invalid_argument naming the first invalid entry. */
    void
    validate() const;

    /** Serialise as "key = value" lines; from_text() reads them back. */
    std::string
    to_text() const;
    /** Throws std::invalid_argument naming an unknown key, a missing one (n_modes,
     *  in_channels, out_channels, hidden_channels, n_layers) or a bad value. */
    static SFNOOptions
    from_text(const std::string &text);
  };

  /**
   * The spherical Fourier neural operator (Bonev et al., ICML 2023; neuraloperator
   * models/sfno.py, method.md Sec. 4.2): grid embedding -> lifting ChannelMLP ->
   * n_layers FNO blocks with SphericalConv -> projection ChannelMLP, on data
   * [batch, channels, nlat, nlon] on a latitude-longitude grid (latitude 0 at the north
   * pole, SphereGrid).
   *
   * Submodules carry neuraloperator's names: `lifting`, `fno_blocks` (its `convs` are
   * SphericalConvs), `projection`. The spherical transforms are built for the grid of
   * each input (cached Legendre tables), so a model trained on one grid evaluates
   * zero-shot on another of the same kind, e.g. twice as fine. The precision policy is
   * shared by every layer, as in FNOImpl.
   */
  class SFNOImpl : public NeuralOperator
  {
  public:
    explicit SFNOImpl(const SFNOOptions &options, const PrecisionPolicy &precision = {});

    /**
     * @param x [batch, in_channels, nlat, nlon] float32, on options().grid (nlat >= 2 for
     *   equiangular).
     * @return [batch, out_channels, nlat, nlon], float32.
     * @throws std::invalid_argument for a wrong rank or channel count, or a precision the
     *   device cannot do.
     */
    torch::Tensor
    forward(torch::Tensor x) override;

    void
    set_precision(const PrecisionPolicy &precision) override;

    const PrecisionPolicy &
    precision() const override
    {
      return *precision_;
    }

    /** "sfno" (rebuilt through make_neural_operator()). */
    std::string
    model_name() const override
    {
      return "sfno";
    }

    std::string
    config_text() const override
    {
      return options_.to_text();
    }

    const SFNOOptions &
    options() const
    {
      return options_;
    }

    /** Number of real scalars in the spherical weights (a complex entry counts twice). */
    int64_t
    n_spectral_parameters() const;

    ChannelMLP lifting{nullptr};
    FNOBlocks  fno_blocks{nullptr};
    ChannelMLP projection{nullptr};

  private:
    /** x with the 2 coordinate channels appended, [batch, in + 2, nlat, nlon]. */
    torch::Tensor
    grid_embedding(const torch::Tensor &x);

    SFNOOptions                                   options_;
    SphereGrid                                    grid_;
    std::shared_ptr<PrecisionPolicy>              precision_;
    std::map<std::vector<int64_t>, torch::Tensor> grid_cache_;
  };
  TORCH_MODULE(SFNO);
} // namespace mpno
