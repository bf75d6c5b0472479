#pragma once

#include <torch/types.h>

#include <vector>

namespace mpno
{
  /**
   * A neighbourhood graph in compressed sparse row form, as neuraloperator's
   * NeighborSearch returns it (neuralop/layers/neighbor_search.py): the neighbours of
   * query i are neighbors_index[row_splits[i] .. row_splits[i + 1]), indices into the
   * data points, in increasing order. Both tensors are int64 on the CPU.
   */
  struct Neighbors
  {
    /** [n_queries + 1], row_splits[0] = 0, non-decreasing, last entry = nnz. */
    torch::Tensor row_splits;
    /** [nnz], indices into the data points. */
    torch::Tensor neighbors_index;

    int64_t
    n_queries() const
    {
      return row_splits.defined() ? row_splits.size(0) - 1 : 0;
    }
    int64_t
    nnz() const
    {
      return neighbors_index.defined() ? neighbors_index.size(0) : 0;
    }
  };

  /**
   * For every query point, the data points within Euclidean distance @p radius
   * (closed ball: |x - y| <= radius), found with a Boost.Geometry R-tree (packed by
   * the STR algorithm) built on @p data, each box hit then checked exactly in double
   * precision. The GNO's neighbourhood A(x) of method.md Sec. 4.3.
   *
   * @param data [n_data, d] floating point, d = 2 or 3 (any device; copied to the CPU).
   * @param queries [n_queries, d], same d.
   * @param radius > 0, in the units of the coordinates.
   * @return the CSR graph on the CPU; a query with no data point in its ball has an
   *   empty row.
   * @throws std::invalid_argument for a rank other than 2, d outside {2, 3}, different d
   *   of data and queries, non-finite coordinates or radius <= 0.
   */
  Neighbors
  radius_neighbors(const torch::Tensor &data, const torch::Tensor &queries, double radius);

  /**
   * The block-diagonal graph of several instances packed one after the other: the
   * queries of instance k follow those of instance k - 1, and its data indices are
   * shifted by the number of data points of the instances before it, so one segment
   * reduction over the packed graph computes every instance's integral at once.
   *
   * @param graphs one graph per instance.
   * @param n_data the number of data points of each instance (same length).
   * @throws std::invalid_argument for different lengths.
   */
  Neighbors
  pack_neighbors(const std::vector<Neighbors> &graphs, const std::vector<int64_t> &n_data);
} // namespace mpno
