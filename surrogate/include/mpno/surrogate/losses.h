#pragma once

#include <torch/types.h>

namespace mpno
{
  /** How per-sample losses are combined over the batch. */
  enum class LossReduction
  {
    sum, ///< neuraloperator's default (`reductions='sum'`)
    mean,
    none ///< the per-sample losses, shape [batch]
  };

  /**
   * Relative Lp loss (neuraloperator `LpLoss`, method.md Sec. 5):
   * ||x - y||_p / (||y||_p + eps) per sample and channel over the d trailing
   * (spatial) axes, summed over channels, then reduced over the batch. The quadrature
   * weight h^d cancels in the ratio. Computed in float32 whatever the input dtype.
   *
   * @param prediction, target [batch, channels, n_1, ..., n_d], same shape.
   * @throws std::invalid_argument on a shape mismatch or rank < d + 2.
   */
  class LpLoss
  {
  public:
    explicit LpLoss(int64_t d = 2, double p = 2., LossReduction reduction = LossReduction::sum);
    torch::Tensor
    operator()(const torch::Tensor &prediction, const torch::Tensor &target) const;

  private:
    int64_t       d_;
    double        p_;
    LossReduction reduction_;
  };

  /**
   * Relative H1 loss (neuraloperator `H1Loss`, method.md Sec. 5):
   * sqrt(sum_j ||D_j (x - y)||^2) / sqrt(sum_j ||D_j y||^2), with D_0 the identity and
   * D_j, j = 1..d, the periodic central difference (roll(-1) - roll(+1)) / (2 h_j) along
   * spatial axis j, h_j = L_j / n_j with domain length L_j = 1 (HEAD's measure 1).
   * The norms are discrete L2 norms with the quadrature weight prod_j h_j, which cancels.
   * Per sample (channels summed in the squared norms), reduced over the batch.
   *
   * @throws std::invalid_argument on a shape mismatch or rank < d + 2.
   */
  class H1Loss
  {
  public:
    explicit H1Loss(int64_t d = 2, LossReduction reduction = LossReduction::sum);
    torch::Tensor
    operator()(const torch::Tensor &prediction, const torch::Tensor &target) const;

  private:
    int64_t       d_;
    LossReduction reduction_;
  };
} // namespace mpno
