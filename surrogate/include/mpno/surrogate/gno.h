#pragma once

#include <mpno/surrogate/neighbor_search.h>
#include <mpno/surrogate/precision.h>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * neuraloperator's `SinusoidalEmbedding` (neuralop/layers/embeddings.py) of
   * coordinates p [n, in_channels]: for each coordinate i and frequency level
   * k < num_frequencies, channels 2 (i L + k) and 2 (i L + k) + 1 hold sin(w_k p_i) and
   * cos(w_k p_i), with w_k = max_positions^(-2k / L) ("transformer", Vaswani et al.
   * 2017) or w_k = 2^k pi ("nerf", Mildenhall et al. 2020). No parameters.
   */
  class SinusoidalEmbeddingImpl : public torch::nn::Module
  {
  public:
    /** @throws std::invalid_argument for in_channels or num_frequencies < 1, an unknown
     *  embedding_type, or max_positions <= 0. */
    SinusoidalEmbeddingImpl(int64_t            in_channels,
                            int64_t            num_frequencies,
                            const std::string &embedding_type = "transformer",
                            double             max_positions  = 10000.);

    /** p [n, in_channels] -> [n, 2 num_frequencies in_channels], in the dtype of p. */
    torch::Tensor
    forward(const torch::Tensor &p);

    int64_t
    out_channels() const
    {
      return 2 * num_frequencies_ * in_channels_;
    }

  private:
    int64_t       in_channels_, num_frequencies_;
    torch::Tensor frequencies_; ///< [L] float64, a buffer-free constant
  };
  TORCH_MODULE(SinusoidalEmbedding);

  /**
   * neuraloperator's `LinearChannelMLP`: Linear layers (`fcs.<k>`) of the given widths
   * with GELU between them, on the last axis: [n, widths.front()] -> [n, widths.back()],
   * computed in the dtype of the input (weights and biases are cast to it).
   */
  class LinearChannelMLPImpl : public torch::nn::Module
  {
  public:
    /** @throws std::invalid_argument for fewer than 2 widths or a width < 1. */
    explicit LinearChannelMLPImpl(const std::vector<int64_t> &widths);
    torch::Tensor
    forward(torch::Tensor x);

    /** The layers after the first, given the first layer's output (before its GELU)
     *  @p hidden [n, widths[1]]: forward(x) = forward_after_first(fcs.0(x)). */
    torch::Tensor
    forward_after_first(torch::Tensor hidden);

    torch::nn::ModuleList fcs;
  };
  TORCH_MODULE(LinearChannelMLP);

  /**
   * The reduction of @p values over each row of a CSR graph: out[i] = sum (or mean) of
   * values[row_splits[i] .. row_splits[i + 1]), computed as one index_add_ with the
   * row of every entry (differentiable in @p values); an empty row gives 0 for both.
   *
   * @param values [nnz, channels].
   * @param row_splits [n_rows + 1] int64, any device (moved to that of @p values).
   * @param reduction "sum" | "mean".
   * @return [n_rows, channels], dtype and device of @p values.
   * @throws std::invalid_argument for an unknown reduction or nnz != row_splits.back().
   */
  torch::Tensor
  segment_reduce(const torch::Tensor &values, const torch::Tensor &row_splits, const std::string &reduction);

  /**
   * The configuration of a GNOBlock, with neuraloperator's names
   * (neuralop/layers/gno_block.py).
   */
  struct GNOBlockOptions
  {
    /** Channels of f(y); used by the `linear` and `nonlinear` transforms, whose
     *  (diagonal) kernel then has out_channels = in_channels. */
    int64_t in_channels = 1;
    /** Channels of the output: the kernel MLP's last width. */
    int64_t out_channels = 1;
    /** d, the dimension of the points x and y (2 or 3). */
    int64_t coord_dim = 3;
    /** Hidden widths of the kernel MLP, e.g. {80, 80, 80}. */
    std::vector<int64_t> channel_mlp_layers = {80, 80, 80};
    /** "linear_kernelonly" int k(x, y) dy; "linear" int k(x, y) f(y) dy;
     *  "nonlinear" int k(x, y, f(y)) f(y) dy. */
    std::string transform_type = "linear";
    /** "mean" (1/|A(x)| sum over the neighbourhood) | "sum". */
    std::string reduction = "mean";
    /** "transformer" | "nerf" | "none" (the kernel sees the raw coordinates). */
    std::string pos_embedding_type = "transformer";
    /** Frequencies per coordinate of the sinusoidal embedding. */
    int64_t pos_embedding_channels      = 32;
    double  pos_embedding_max_positions = 10000.;

    /** Throws std::invalid_argument naming the first invalid entry. */
    void
    validate() const;
    /** Channels of the kernel's input: 2 embedded coordinates (+ in_channels if nonlinear). */
    int64_t
    kernel_in_channels() const;
  };

  /**
   * The graph neural operator's integral transform (neuraloperator `GNOBlock` and
   * `IntegralTransform`; method.md Sec. 4.3): for each output point x_i,
   *
   *   out(x_i) = reduce_{y_j in A(x_i)} k(e(y_j), e(x_i)[, f(y_j)]) [* f(y_j)]
   *
   * with A(x_i) a CSR neighbourhood (radius_neighbors()), e the sinusoidal embedding (or
   * the identity), k the kernel MLP `channel_mlp` and reduce the mean or the sum. With
   * the mean and y uniform in the ball, out approximates (1/|B_r|) int_{B_r(x)} k f dy;
   * with the sum, times the cell volume, the integral itself.
   *
   * Batching: one forward handles any number of instances packed one after the other
   * (pack_neighbors()): their points are concatenated and one segment reduction covers
   * them all, so instances of different point counts need no padding.
   *
   * Cost: the kernel's first layer is affine in the concatenation [e(y), e(x), f(y)], so
   * it is applied once per point and its two parts gathered and added per pair (the same
   * map and parameters as on the concatenation, neuraloperator's layout); only the later
   * layers run per pair. Precision: the kernel MLP runs in the activation dtype of the
   * precision policy given to the constructor (the reduced type under autocast, as
   * torch.autocast runs neuraloperator's Linear layers); coordinates, embeddings, the
   * product with f and the reduction stay in float32.
   */
  class GNOBlockImpl : public torch::nn::Module
  {
  public:
    /** @p precision: whose autocast decides the kernel MLP's dtype; null: float32. */
    explicit GNOBlockImpl(const GNOBlockOptions &options, std::shared_ptr<const PrecisionPolicy> precision = nullptr);

    /**
     * @param y [n_y, coord_dim] the points integrated over.
     * @param x [n_x, coord_dim] the output points.
     * @param neighbors the neighbours in y of each x (n_queries = n_x).
     * @param f_y [n_y, in_channels] float32, needed unless transform_type is
     *   linear_kernelonly (where it is ignored).
     * @return [n_x, out_channels] float32, on the device of x.
     * @throws std::invalid_argument for shapes that do not match the options or the graph.
     */
    torch::Tensor
    forward(const torch::Tensor &y, const torch::Tensor &x, const Neighbors &neighbors, const torch::Tensor &f_y = {});

    const GNOBlockOptions &
    options() const
    {
      return options_;
    }

    SinusoidalEmbedding pos_embedding{nullptr}; ///< null for pos_embedding_type = none
    LinearChannelMLP    channel_mlp{nullptr};

  private:
    GNOBlockOptions                        options_;
    std::shared_ptr<const PrecisionPolicy> precision_;
  };
  TORCH_MODULE(GNOBlock);
} // namespace mpno
