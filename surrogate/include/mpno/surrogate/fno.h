#pragma once

#include <mpno/surrogate/fno_block.h>
#include <mpno/surrogate/neural_operator.h>
#include <mpno/surrogate/precision.h>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * The configuration of an FNO, with neuraloperator's parameter names
   * (neuralop/models/fno.py) and defaults. Everything needed to rebuild the model:
   * it is stored in every checkpoint.
   */
  struct FNOOptions
  {
    /** Modes per dimension; its length is the spatial dimension (1 to 3). */
    std::vector<int64_t> n_modes                  = {16, 16};
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
    /** "grid" appends the d coordinates linspace(0, 1, n+1)[:-1]; "none". */
    std::string positional_embedding = "grid";
    /** Fraction of each spatial size padded with zeros before the blocks; 0 = off. */
    double domain_padding = 0.;
    /** "one-sided" | "symmetric". */
    std::string domain_padding_mode = "one-sided";
    /** Spectral weights: "dense" | "tucker" | "cp" | "tt" (a TFNO when not dense;
     *  method.md Sec. 2.2). */
    std::string factorization = "dense";
    /** Fraction of the dense weight's entries the factors hold, > 0 (e.g. 0.05). */
    double rank = 1.;
    /** "factorized" (contract with the factors) | "reconstructed" (rebuild the dense
     *  weight each call). */
    std::string implementation = "factorized";

    /** Throws std::invalid_argument naming the first invalid entry. */
    void
    validate() const;

    /** Serialise as "key = value" lines; from_text() reads them back. factorization,
     *  rank and implementation are written only when factorization is not dense, so a
     *  dense configuration reads exactly as before they existed. */
    std::string
    to_text() const;
    /** Throws std::invalid_argument naming an unknown key or a bad value. */
    static FNOOptions
    from_text(const std::string &text);
  };

  /**
   * The Fourier neural operator (Li et al. 2021; neuraloperator HEAD fno.py,
   * method.md Sec. 4.1): grid embedding -> lifting ChannelMLP -> domain padding ->
   * n_layers FNO blocks -> unpadding -> projection ChannelMLP.
   *
   * Submodules carry neuraloperator's names: `lifting`, `fno_blocks`, `projection`.
   * The precision policy is one object shared by every layer; set_precision()
   * changes it for the whole model (the schedule and the non-finite fallback use it).
   */
  class FNOImpl : public NeuralOperator
  {
  public:
    explicit FNOImpl(const FNOOptions &options, const PrecisionPolicy &precision = {});

    /**
     * @param x [batch, in_channels, n_1, ..., n_d] float32 (any resolution).
     * @return [batch, out_channels, n_1, ..., n_d], float32.
     * @throws std::invalid_argument for a wrong rank or channel count.
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

    /** "fno", or "tfno" for a factorized model (both rebuild through make_neural_operator()). */
    std::string
    model_name() const override
    {
      return options_.factorization == "dense" ? "fno" : "tfno";
    }

    std::string
    config_text() const override
    {
      return options_.to_text();
    }

    const FNOOptions &
    options() const
    {
      return options_;
    }

    /** Number of real scalars in the spectral weights or their factors (a complex
     *  entry counts twice). */
    int64_t
    n_spectral_parameters() const;

    ChannelMLP lifting{nullptr};
    FNOBlocks  fno_blocks{nullptr};
    ChannelMLP projection{nullptr};

  private:
    /** x with the d grid coordinate channels appended, [batch, in + d, n_1.. n_d]. */
    torch::Tensor
    grid_embedding(const torch::Tensor &x);

    FNOOptions                                    options_;
    std::shared_ptr<PrecisionPolicy>              precision_;
    std::map<std::vector<int64_t>, torch::Tensor> grid_cache_;
  };
  TORCH_MODULE(FNO);
} // namespace mpno
