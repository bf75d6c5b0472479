#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/point_cloud_dataset.h>

#include <torch/torch.h>

#include <stdexcept>

namespace mpno
{
  std::vector<int64_t>
  PointCloudDataset::latent_shape() const
  {
    if (inputs.empty() || !inputs.front().latent_queries.defined())
      return {};
    const auto sizes = inputs.front().latent_queries.sizes();
    return std::vector<int64_t>(sizes.begin(), sizes.end() - 1);
  }

  PointCloudDataset
  PointCloudDataset::head(const int64_t n) const
  {
    if (n <= 0 || n >= size())
      return *this;
    PointCloudDataset first;
    first.inputs.assign(inputs.begin(), inputs.begin() + n);
    first.y.assign(y.begin(), y.begin() + n);
    first.weights.assign(weights.begin(), weights.begin() + n);
    return first;
  }

  void
  PointCloudDataset::validate(const std::string &what) const
  {
    if (inputs.empty())
      throw std::invalid_argument(what + " is empty");
    if (y.size() != inputs.size() || weights.size() != inputs.size())
      throw std::invalid_argument(what + ": " + std::to_string(inputs.size()) + " inputs, " + std::to_string(y.size()) +
                                  " targets and " + std::to_string(weights.size()) + " weight vectors");
    const auto shape = latent_shape();
    for (std::size_t k = 0; k < inputs.size(); ++k)
      {
        const std::string where = what + ", instance " + std::to_string(k);
        const GINOInput  &input = inputs[k];
        if (!input.input_geom.defined() || input.input_geom.dim() != 2)
          throw std::invalid_argument(where + ": input_geom must be [n, d]");
        const int64_t n = input.input_geom.size(0);
        if (!y[k].defined() || y[k].dim() != 2 || y[k].size(0) != n)
          throw std::invalid_argument(where + ": y must be [" + std::to_string(n) + ", out_channels], found " +
                                      (y[k].defined() ? io::shape_to_string(y[k].sizes()) : std::string("none")));
        if (!weights[k].defined() || weights[k].sizes() != torch::IntArrayRef{n})
          throw std::invalid_argument(
            where + ": weights must be [" + std::to_string(n) + "], found " +
            (weights[k].defined() ? io::shape_to_string(weights[k].sizes()) : std::string("none")));
        if (!input.latent_queries.defined() ||
            std::vector<int64_t>(input.latent_queries.sizes().begin(), input.latent_queries.sizes().end() - 1) != shape)
          throw std::invalid_argument(where + ": its latent grid differs from the first instance's");
        for (const torch::Tensor &t : {input.input_geom, input.x, y[k], weights[k], input.latent_features})
          if (t.defined() && !torch::isfinite(t).all().item<bool>())
            throw std::invalid_argument(where + ": non-finite values");
      }
  }

  torch::Tensor
  weighted_relative_l2(const torch::Tensor &prediction, const torch::Tensor &target, const torch::Tensor &weights)
  {
    const torch::Tensor w = weights.to(torch::kFloat).unsqueeze(-1);
    return ((prediction - target).pow(2) * w).sum().sqrt() / (target.pow(2) * w).sum().sqrt();
  }
} // namespace mpno
