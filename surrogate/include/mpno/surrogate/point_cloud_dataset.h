#pragma once

#include <mpno/surrogate/gino.h>

#include <torch/types.h>

#include <string>
#include <vector>

namespace mpno
{
  /**
   * Instances of different geometries and point counts, as GINO takes them (method.md
   * Sec. 4.3): per instance k a GINOInput (input_geom [n_k, d], output_queries [n_k, d],
   * x [n_k, in_channels] or undefined, latent_queries [g_1, ..., g_d, d],
   * latent_features [g_1, ..., g_d, k] or undefined), the target y [n_k, out_channels]
   * and the quadrature weights [n_k] of its L2 norm (e.g. the lumped mass), all float32
   * on the CPU. Every instance of one dataset shares the latent grid shape.
   */
  struct PointCloudDataset
  {
    std::vector<GINOInput>     inputs;
    std::vector<torch::Tensor> y;
    std::vector<torch::Tensor> weights;

    int64_t
    size() const
    {
      return static_cast<int64_t>(inputs.size());
    }

    /** g_1, ..., g_d of the first instance's latent grid (empty for an empty dataset). */
    std::vector<int64_t>
    latent_shape() const;

    /** The first @p n instances (all if n <= 0 or n >= size()). */
    PointCloudDataset
    head(int64_t n) const;

    /**
     * @throws std::invalid_argument naming @p what and the instance for an empty
     *   dataset, sizes that disagree (y or weights not of input_geom's point count, an
     *   undefined y, latent grids of different shapes) or non-finite values.
     */
    void
    validate(const std::string &what) const;
  };

  /** A named evaluation set of point clouds, e.g. {"32", held-out geometries}. */
  struct PointCloudTestSet
  {
    std::string       name;
    PointCloudDataset data;
  };

  /**
   * The relative L2 error of @p prediction against @p target ([n, channels]) in the
   * discrete norm with quadrature @p weights [n]: sqrt(sum_i w_i |p_i - t_i|^2 /
   * sum_i w_i |t_i|^2), a 0-d float32 tensor (differentiable); the norms of
   * neuraloperator's LpLoss with the mesh's quadrature instead of a uniform one.
   */
  torch::Tensor
  weighted_relative_l2(const torch::Tensor &prediction, const torch::Tensor &target, const torch::Tensor &weights);
} // namespace mpno
