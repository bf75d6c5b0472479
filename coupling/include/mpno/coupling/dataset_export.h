#pragma once

#include <mpno/coupling/dataset_file.h>

#include <filesystem>

namespace mpno
{
  /**
   * Write @p set as a .pt file that Python's torch.load reads and load_pt_dataset()
   * reads back: a dict {"x": float32 [n, in_channels, n_1, ..., n_d], "y": float32
   * [n, out_channels, n_1, ..., n_d]} (neuraloperator's format; the seeds are not
   * written), serialised by torch::pickle_save and written atomically
   * (io::write_file_atomically: a temporary in the same directory, renamed onto @p path).
   * @throws std::invalid_argument naming the set if the sizes of x or y do not match
   *   its shape; std::runtime_error naming the path if the file cannot be written.
   */
  void
  export_pt(const GridDataSet &set, const std::filesystem::path &path);
} // namespace mpno
