#pragma once

// Internal to libmpno_coupling (and its tests): GridDataSet -> LibTorch tensors.

#include <mpno/coupling/dataset_file.h>
#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/point_cloud_dataset.h>

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

  /**
   * @p set as GINO inputs (copies, float32, CPU): per instance input_geom =
   * output_queries = points [n_k, d], x [n_k, in_channels] (undefined when 0),
   * latent_queries [g_1, ..., g_d, d], latent_features [g_1, ..., g_d, k] (undefined
   * when 0), y [n_k, out_channels], weights [n_k].
   * @throws std::invalid_argument naming the set and the instance for arrays of the
   *   wrong size.
   */
  PointCloudDataset
  to_point_cloud_dataset(const PointCloudDataSet &set);

  /** One instance of @p set (as to_point_cloud_dataset()) without the target: the input
   *  of inference. */
  GINOInput
  to_gino_input(const PointCloudDataSet &set, const PointCloudSample &sample);
} // namespace mpno
