#include <mpno/surrogate/losses.h>

#include <torch/torch.h>

#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace
  {
    /** Added to the denominators of the relative losses, as neuraloperator HEAD does. */
    constexpr double eps = 1e-8;

    void
    check_shapes(const char *loss, const torch::Tensor &prediction, const torch::Tensor &target, int64_t d)
    {
      std::ostringstream message;
      if (prediction.sizes() != target.sizes())
        message << ": prediction and target must have the same shape, found " << prediction.sizes() << " and "
                << target.sizes();
      else if (prediction.dim() < d + 2)
        message << ": expected [batch, channels, n_1, ..., n_d] with d = " << d << ", i.e. rank >= " << d + 2
                << ", found shape " << prediction.sizes();
      else
        return;
      throw std::invalid_argument(loss + message.str());
    }

    /** [batch, channels, n_1, ..., n_d] (any further leading axes count as channels) ->
     * [batch, channels, n_1 * ... * n_d]. */
    torch::Tensor
    flatten_spatial(const torch::Tensor &t, int64_t d)
    {
      return t.flatten(t.dim() - d, -1).flatten(1, t.dim() - d - 1);
    }

    torch::Tensor
    reduce(const torch::Tensor &per_sample, LossReduction reduction)
    {
      switch (reduction)
        {
          case LossReduction::sum:
            return per_sample.sum();
          case LossReduction::mean:
            return per_sample.mean();
          case LossReduction::none:
            break;
        }
      return per_sample;
    }
  } // namespace

  LpLoss::LpLoss(int64_t d, double p, LossReduction reduction)
    : d_(d)
    , p_(p)
    , reduction_(reduction)
  {
    if (d < 1 || !(p > 0.))
      throw std::invalid_argument("LpLoss: expected d >= 1 and p > 0, found d = " + std::to_string(d) +
                                  ", p = " + std::to_string(p));
  }

  torch::Tensor
  LpLoss::operator()(const torch::Tensor &prediction, const torch::Tensor &target) const
  {
    check_shapes("LpLoss", prediction, target, d_);
    const auto y     = flatten_spatial(target.to(torch::kFloat32), d_);
    const auto diff  = flatten_spatial(prediction.to(torch::kFloat32), d_) - y;
    const auto ratio = torch::linalg_vector_norm(diff, p_, {2}) / (torch::linalg_vector_norm(y, p_, {2}) + eps);
    return reduce(ratio.sum(1), reduction_);
  }

  H1Loss::H1Loss(int64_t d, LossReduction reduction)
    : d_(d)
    , reduction_(reduction)
  {
    if (d < 1)
      throw std::invalid_argument("H1Loss: expected d >= 1, found d = " + std::to_string(d));
  }

  torch::Tensor
  H1Loss::operator()(const torch::Tensor &prediction, const torch::Tensor &target) const
  {
    check_shapes("H1Loss", prediction, target, d_);
    // f and its periodic central differences D_j f, j = 1..d, side by side per sample:
    // the Euclidean norm of this is sqrt(sum_j ||D_j f||^2), and unlike sqrt(sum of
    // squares) its gradient stays finite when f = 0.
    const auto terms = [this](const torch::Tensor &f) {
      std::vector<torch::Tensor> all{f.flatten(1)};
      for (int64_t j = 1; j <= d_; ++j)
        {
          const int64_t axis = f.dim() - d_ + j - 1;
          const double  h    = 1. / static_cast<double>(f.size(axis));
          all.push_back(((f.roll(-1, axis) - f.roll(1, axis)) / (2. * h)).flatten(1));
        }
      return torch::cat(all, 1);
    };
    const auto y    = target.to(torch::kFloat32);
    const auto diff = prediction.to(torch::kFloat32) - y;
    const auto ratio =
      torch::linalg_vector_norm(terms(diff), 2., {1}) / (torch::linalg_vector_norm(terms(y), 2., {1}) + eps);
    return reduce(ratio, reduction_);
  }
} // namespace mpno
