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
} // namespace mpno
