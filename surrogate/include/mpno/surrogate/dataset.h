#pragma once

#include <ATen/core/ivalue.h>
#include <torch/types.h>

#include <string>

namespace mpno
{
  /**
   * Input-output pairs on a grid, held as two tensors:
   * x [samples, in_channels, n_1, ..., n_d] and y [samples, out_channels, n_1, ..., n_d],
   * both float32 and contiguous.
   */
  struct TensorDataset
  {
    torch::Tensor x;
    torch::Tensor y;

    int64_t
    size() const
    {
      return x.defined() ? x.size(0) : 0;
    }
    /** The spatial grid (n_1, ..., n_d). */
    std::vector<int64_t>
    grid_shape() const;
    /** The first @p n samples (all if n <= 0 or n >= size()). */
    TensorDataset
    head(int64_t n) const;
  };

  /**
   * The unpickled content of a file written by Python's torch.save or torch::pickle_save
   * (torch::pickle_load on its bytes).
   * @throws std::runtime_error starting "CALLER: 'path'" if the file is missing,
   *   unreadable or not such a file.
   */
  c10::IValue
  load_torch_file(const std::string &path, const std::string &caller);

  /**
   * Load a dataset from a file written by Python's torch.save: a dict of tensors
   * (the neuraloperator format, e.g. data/darcy_train_16.pt with `x` bool
   * [1000, 16, 16] and `y` float32 [1000, 16, 16]).
   *
   * Each tensor may be [samples, n_1, ..., n_d] (one channel is added) or
   * [samples, channels, n_1, ..., n_d]; bool, integer and floating types are
   * converted to float32.
   *
   * @param spatial_dim d, the number of spatial axes.
   * @param max_samples keep the first max_samples (0: all).
   * @throws std::runtime_error naming the file if it is missing, unreadable or not a
   *   dict of tensors; std::invalid_argument naming the file and key for a missing
   *   key (listing the keys present), a wrong rank or dtype (complex), non-finite
   *   values, mismatched sample counts or grids of x and y.
   */
  TensorDataset
  load_pt_dataset(const std::string &path,
                  const std::string &input_key   = "x",
                  const std::string &output_key  = "y",
                  int64_t            spatial_dim = 2,
                  int64_t            max_samples = 0);
} // namespace mpno
