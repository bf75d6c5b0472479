#pragma once

// Internal to libmpno_coupling (and its tests): GridDataSet -> LibTorch tensors.

#include <mpno/coupling/dataset_file.h>
#include <mpno/surrogate/dataset.h>

namespace mpno
{
  /**
   * @p set as tensors (copies): x float32 [n, in_channels, n_1, ..., n_d] and y float32
   * [n, out_channels, n_1, ..., n_d], contiguous, on the CPU.
   * @throws std::invalid_argument naming the set if it has no grid axis or x or y is
   *   not of size n_samples * channels * points_per_sample() (expected vs found).
   */
  TensorDataset
  to_tensor_dataset(const GridDataSet &set);
} // namespace mpno
