#pragma once

#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/spectral_conv.h>
#include <mpno/surrogate/spherical_conv.h>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * A 1x1 channel map y[b, o, s] = sum_i W[o, i] x[b, i, s] + bias[o] on
   * x [batch, in, n_1, ..., n_d], computed as one batched GEMM over the flattened
   * spatial axis in the dtype of @p x (float32, or the reduced type under autocast;
   * weight and bias are cast to it). @p bias may be undefined.
   */
  torch::Tensor
  channel_linear(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias);

  /** A 1x1 convolution (torch.nn.Conv1d with kernel 1): `weight` [out, in], `bias` [out],
   *  initialised uniformly with bound 1/sqrt(in) like Conv1d. */
  class ChannelLinearImpl : public torch::nn::Module
  {
  public:
    ChannelLinearImpl(int64_t in_channels, int64_t out_channels, bool bias = true);
    /** [batch, in, n_1.. n_d] -> [batch, out, n_1.. n_d], in the dtype of x. */
    torch::Tensor
    forward(const torch::Tensor &x);

    torch::Tensor weight;
    torch::Tensor bias;
  };
  TORCH_MODULE(ChannelLinear);

  /** neuraloperator's `SoftGating`: y = w . x per channel, `weight` [channels] initialised to 1. */
  class SoftGatingImpl : public torch::nn::Module
  {
  public:
    explicit SoftGatingImpl(int64_t channels);
    torch::Tensor
    forward(const torch::Tensor &x);

    torch::Tensor weight;
  };
  TORCH_MODULE(SoftGating);

  /**
   * neuraloperator's `ChannelMLP`: n_layers 1x1 channel maps (`fcs.<k>`) with GELU
   * between them, in_channels -> hidden_channels -> ... -> out_channels.
   */
  class ChannelMLPImpl : public torch::nn::Module
  {
  public:
    ChannelMLPImpl(int64_t in_channels, int64_t out_channels, int64_t hidden_channels, int64_t n_layers = 2);

    /** x [batch, in, n_1.. n_d] -> [batch, out, n_1.. n_d], in the dtype of x. */
    torch::Tensor
    forward(torch::Tensor x);

    torch::nn::ModuleList fcs;
  };
  TORCH_MODULE(ChannelMLP);

  /**
   * The n_layers Fourier blocks of the FNO (neuraloperator `FNOBlocks`,
   * postactivation; method.md Sec. 4.1 "FNO block"), block i:
   *
   *   skip  = fno_skip(x);   mlp_skip = channel_mlp_skip(x)
   *   x_f   = norm(SpectralConv(x))          (the stabilizer acts inside SpectralConv)
   *   x     = x_f + skip,      GELU if i is not the last block
   *   x     = norm(ChannelMLP(x) + mlp_skip), GELU if i is not the last block
   *
   * Skips: "linear" (1x1 map without bias), "soft-gating", "identity". Norm: "none"
   * or "group_norm" (GroupNorm with one group, run in float32). Under autocast the
   * skips and MLPs run in the reduced type and the block's output is in it.
   *
   * Submodules: `convs`, `fno_skips`, `channel_mlp`, `channel_mlp_skips`, `norm`
   * (2 per block), as in neuraloperator. The spectral convolution is a SpectralConv
   * (FNO, TFNO) or a SphericalConv (SFNO: neuraloperator's `conv_module`), one kind
   * for all blocks, both registered as `convs`.
   */
  class FNOBlocksImpl : public torch::nn::Module
  {
  public:
    /** @p spectral configures every block's SpectralConv (hidden_channels in and out,
     *  n_modes, factorization); the blocks' width is its in_channels. */
    FNOBlocksImpl(const SpectralConvOptions             &spectral,
                  int64_t                                n_layers,
                  double                                 channel_mlp_expansion,
                  const std::string                     &fno_skip,
                  const std::string                     &channel_mlp_skip,
                  const std::string                     &norm,
                  std::shared_ptr<const PrecisionPolicy> precision);

    /** As above with a SphericalConv configured by @p spherical in every block (SFNO). */
    FNOBlocksImpl(const SphericalConvOptions            &spherical,
                  int64_t                                n_layers,
                  double                                 channel_mlp_expansion,
                  const std::string                     &fno_skip,
                  const std::string                     &channel_mlp_skip,
                  const std::string                     &norm,
                  std::shared_ptr<const PrecisionPolicy> precision);

    /** Block @p index on x [batch, hidden, n_1.. n_d]; same shape out, activation dtype. */
    torch::Tensor
    forward(torch::Tensor x, int64_t index);

    int64_t
    n_layers() const
    {
      return static_cast<int64_t>(std::max(convs.size(), spherical_convs.size()));
    }

    std::vector<SpectralConv>         convs;           ///< empty in an SFNO
    std::vector<SphericalConv>        spherical_convs; ///< empty in an FNO or TFNO
    std::vector<ChannelMLP>           channel_mlp;
    std::vector<torch::nn::AnyModule> fno_skips;         ///< empty AnyModule for identity
    std::vector<torch::nn::AnyModule> channel_mlp_skips; ///< empty AnyModule for identity
    std::vector<torch::nn::GroupNorm> norm;              ///< 2 per block when norm = group_norm

  private:
    /** The skips, channel MLPs and norms of @p n_layers blocks; @p add_conv(list) appends
     *  block i's convolution to `convs` and to @p list. */
    void
    build(int64_t                                                 hidden_channels,
          int64_t                                                 n_layers,
          double                                                  channel_mlp_expansion,
          const std::string                                      &fno_skip,
          const std::string                                      &channel_mlp_skip,
          const std::string                                      &norm,
          const std::function<void(torch::nn::ModuleListImpl &)> &add_conv);

    std::shared_ptr<const PrecisionPolicy> precision_;
  };
  TORCH_MODULE(FNOBlocks);
} // namespace mpno
