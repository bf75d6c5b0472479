// radius_neighbors(): a Boost.Geometry R-tree query per point, returned in CSR form.
#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/neighbor_search.h>

#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace mpno
{
  namespace
  {
    namespace bg  = boost::geometry;
    namespace bgi = boost::geometry::index;

    template <std::size_t dim>
    using Point = bg::model::point<double, dim, bg::cs::cartesian>;

    template <std::size_t dim>
    Point<dim>
    make_point(const double *coordinates)
    {
      Point<dim> p;
      bg::set<0>(p, coordinates[0]);
      bg::set<1>(p, coordinates[1]);
      if constexpr (dim == 3)
        bg::set<2>(p, coordinates[2]);
      return p;
    }

    template <std::size_t dim>
    Neighbors
    search(const torch::Tensor &data, const torch::Tensor &queries, const double radius)
    {
      using Value               = std::pair<Point<dim>, int64_t>;
      const double *data_ptr    = data.data_ptr<double>();
      const double *queries_ptr = queries.data_ptr<double>();
      const int64_t n_data      = data.size(0);
      const int64_t n_queries   = queries.size(0);
      const double  radius2     = radius * radius;

      std::vector<Value> values;
      values.reserve(n_data);
      for (int64_t j = 0; j < n_data; ++j)
        values.emplace_back(make_point<dim>(data_ptr + dim * j), j);
      // The range constructor packs the tree (STR bulk loading): faster queries than
      // inserting one point at a time.
      const bgi::rtree<Value, bgi::quadratic<16>> tree(values.begin(), values.end());

      std::vector<int64_t> row_splits(n_queries + 1, 0), index;
      std::vector<Value>   hits;
      for (int64_t i = 0; i < n_queries; ++i)
        {
          const double *q = queries_ptr + dim * i;
          double        low[3], high[3];
          for (std::size_t k = 0; k < dim; ++k)
            {
              low[k]  = q[k] - radius;
              high[k] = q[k] + radius;
            }
          hits.clear();
          tree.query(bgi::intersects(bg::model::box<Point<dim>>(make_point<dim>(low), make_point<dim>(high))),
                     std::back_inserter(hits));
          const std::size_t row_start = index.size();
          for (const auto &[p, j] : hits)
            {
              const double *y  = data_ptr + dim * j;
              double        d2 = 0.;
              for (std::size_t k = 0; k < dim; ++k)
                d2 += (y[k] - q[k]) * (y[k] - q[k]);
              if (d2 <= radius2)
                index.push_back(j);
            }
          std::sort(index.begin() + static_cast<std::ptrdiff_t>(row_start), index.end());
          row_splits[i + 1] = static_cast<int64_t>(index.size());
        }
      return {torch::tensor(row_splits, torch::kLong), torch::tensor(index, torch::kLong)};
    }

    torch::Tensor
    checked_points(const torch::Tensor &points, const char *name)
    {
      if (points.dim() != 2 || (points.size(1) != 2 && points.size(1) != 3))
        throw std::invalid_argument(std::string("radius_neighbors: expected ") + name +
                                    " [n, d] with d = 2 or 3, got " + io::shape_to_string(points.sizes()));
      if (!c10::isFloatingType(points.scalar_type()))
        throw std::invalid_argument(std::string("radius_neighbors: ") + name + " must be floating point, got " +
                                    c10::toString(points.scalar_type()));
      const torch::Tensor cpu = points.detach().to(torch::kCPU, torch::kDouble).contiguous();
      if (!torch::isfinite(cpu).all().item<bool>())
        throw std::invalid_argument(std::string("radius_neighbors: ") + name + " has non-finite coordinates");
      return cpu;
    }
  } // namespace

  Neighbors
  radius_neighbors(const torch::Tensor &data, const torch::Tensor &queries, const double radius)
  {
    if (!(radius > 0) || !std::isfinite(radius))
      throw std::invalid_argument("radius_neighbors: the radius must be > 0 and finite, got " + std::to_string(radius));
    const torch::Tensor y = checked_points(data, "data"), x = checked_points(queries, "queries");
    if (y.size(1) != x.size(1))
      throw std::invalid_argument("radius_neighbors: data and queries of different dimension: " +
                                  io::shape_to_string(y.sizes()) + " and " + io::shape_to_string(x.sizes()));
    return y.size(1) == 2 ? search<2>(y, x, radius) : search<3>(y, x, radius);
  }

  Neighbors
  pack_neighbors(const std::vector<Neighbors> &graphs, const std::vector<int64_t> &n_data)
  {
    if (graphs.size() != n_data.size())
      throw std::invalid_argument("pack_neighbors: " + std::to_string(graphs.size()) + " graphs but " +
                                  std::to_string(n_data.size()) + " data point counts");
    std::vector<torch::Tensor> splits      = {torch::zeros({1}, torch::kLong)}, index;
    int64_t                    data_offset = 0, nnz_offset = 0;
    for (std::size_t k = 0; k < graphs.size(); ++k)
      {
        splits.push_back(graphs[k].row_splits.slice(0, 1) + nnz_offset);
        index.push_back(graphs[k].neighbors_index + data_offset);
        data_offset += n_data[k];
        nnz_offset += graphs[k].nnz();
      }
    return {torch::cat(splits), index.empty() ? torch::zeros({0}, torch::kLong) : torch::cat(index)};
  }
} // namespace mpno
