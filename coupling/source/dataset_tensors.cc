#include <mpno/coupling/dataset_file.h>

#include <torch/torch.h>

#include <stdexcept>

#include "dataset_tensors.h"

namespace mpno
{
  namespace
  {
    /** A copy of @p values as float32 [n, channels, n_1, ..., n_d]. */
    torch::Tensor
    to_tensor(const std::vector<float> &values, const GridDataSet &set, unsigned int channels, const char *label)
    {
      std::vector<int64_t> shape{static_cast<int64_t>(set.n_samples()), static_cast<int64_t>(channels)};
      shape.insert(shape.end(), set.grid_shape.begin(), set.grid_shape.end());
      const std::size_t expected = set.n_samples() * channels * set.points_per_sample();
      if (set.grid_shape.empty() || values.size() != expected)
        throw std::invalid_argument("to_tensor_dataset: set '" + set.name + "': expected " + label + " of shape " +
                                    c10::str(c10::IntArrayRef(shape)) + " (" + std::to_string(expected) +
                                    " values, at least one grid axis), found " + std::to_string(values.size()) +
                                    " values");
      return torch::from_blob(const_cast<float *>(values.data()), shape, torch::kFloat32).clone();
    }
  } // namespace


  TensorDataset
  to_tensor_dataset(const GridDataSet &set)
  {
    return {to_tensor(set.x, set, set.in_channels, "x"), to_tensor(set.y, set, set.out_channels, "y")};
  }

  namespace
  {
    /** A copy of @p values as float32 of @p shape. */
    torch::Tensor
    copy_as(const std::vector<float> &values, const std::vector<int64_t> &shape, const std::string &what)
    {
      int64_t expected = 1;
      for (const int64_t s : shape)
        expected *= s;
      if (static_cast<int64_t>(values.size()) != expected)
        throw std::invalid_argument("to_point_cloud_dataset: " + what + ": expected " +
                                    c10::str(c10::IntArrayRef(shape)) + " (" + std::to_string(expected) +
                                    " values), found " + std::to_string(values.size()) + " values");
      return torch::from_blob(const_cast<float *>(values.data()), shape, torch::kFloat32).clone();
    }
  } // namespace

  GINOInput
  to_gino_input(const PointCloudDataSet &set, const PointCloudSample &sample)
  {
    const std::string    where = "set '" + set.name + "', seed " + std::to_string(sample.seed);
    const int64_t        d     = set.dimension;
    const int64_t        n     = d > 0 ? static_cast<int64_t>(sample.points.size()) / d : 0;
    std::vector<int64_t> latent(set.latent_shape.begin(), set.latent_shape.end());
    latent.push_back(d);
    GINOInput input;
    input.input_geom     = copy_as(sample.points, {n, d}, where + ", points");
    input.output_queries = input.input_geom;
    input.latent_queries = copy_as(set.latent_queries, latent, where + ", latent_queries");
    if (set.in_channels > 0)
      input.x = copy_as(sample.x, {n, static_cast<int64_t>(set.in_channels)}, where + ", x");
    if (set.latent_feature_channels > 0)
      {
        latent.back()         = set.latent_feature_channels;
        input.latent_features = copy_as(sample.latent_features, latent, where + ", latent_features");
      }
    return input;
  }

  PointCloudDataset
  to_point_cloud_dataset(const PointCloudDataSet &set)
  {
    PointCloudDataset data;
    for (const PointCloudSample &sample : set.samples)
      {
        const std::string where = "set '" + set.name + "', seed " + std::to_string(sample.seed);
        data.inputs.push_back(to_gino_input(set, sample));
        const int64_t n = data.inputs.back().input_geom.size(0);
        data.y.push_back(copy_as(sample.y, {n, static_cast<int64_t>(set.out_channels)}, where + ", y"));
        data.weights.push_back(copy_as(sample.weights, {n}, where + ", weights"));
      }
    return data;
  }
} // namespace mpno
