// radius_neighbors() against brute force (random points, several radii, 2D and 3D, empty
// neighbourhoods), its errors, and pack_neighbors().
#include <mpno/surrogate/neighbor_search.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <iostream>
#include <vector>

using namespace mpno;

namespace
{
  /** The CSR graph of |x_i - y_j| <= r by computing every distance, in float64. */
  Neighbors
  brute_force(const torch::Tensor &data, const torch::Tensor &queries, const double radius)
  {
    const auto           y = data.to(torch::kDouble), x = queries.to(torch::kDouble);
    const auto           within    = ((x.unsqueeze(1) - y.unsqueeze(0)).pow(2).sum(2) <= radius * radius);
    const auto           is_within = within.accessor<bool, 2>();
    std::vector<int64_t> splits    = {0}, index;
    for (int64_t i = 0; i < x.size(0); ++i)
      {
        for (int64_t j = 0; j < y.size(0); ++j)
          if (is_within[i][j])
            index.push_back(j);
        splits.push_back(static_cast<int64_t>(index.size()));
      }
    return {torch::tensor(splits, torch::kLong), torch::tensor(index, torch::kLong)};
  }
} // namespace

TEST(NeighborSearch, MatchesBruteForceIn2DAnd3D)
{
  torch::manual_seed(0);
  torch::set_num_threads(1);
  for (const int64_t d : {2, 3})
    for (const double radius : {0.04, 0.12, 0.35})
      {
        const auto data = torch::rand({1000, d});
        // Queries also outside the data's box, so that some balls hold no point.
        const auto queries  = 2. * torch::rand({150, d}) - 0.5;
        const auto found    = radius_neighbors(data, queries, radius);
        const auto expected = brute_force(data, queries, radius);
        ASSERT_TRUE(torch::equal(found.row_splits, expected.row_splits)) << "d " << d << ", radius " << radius;
        ASSERT_TRUE(torch::equal(found.neighbors_index, expected.neighbors_index))
          << "d " << d << ", radius " << radius;
        const auto counts = found.row_splits.slice(0, 1) - found.row_splits.slice(0, 0, -1);
        std::cout << "d " << d << ", radius " << radius << ": " << found.nnz() << " pairs, "
                  << (counts == 0).sum().item<int64_t>() << " of 150 queries without neighbours" << std::endl;
        EXPECT_EQ(found.n_queries(), 150);
        if (radius < 0.1)
          EXPECT_GT((counts == 0).sum().item<int64_t>(), 0); // empty neighbourhoods occur
        EXPECT_GT(found.nnz(), 0);
      }
}

TEST(NeighborSearch, BoundaryIsIncludedAndFloat64Works)
{
  // Points exactly at distance r (representable: 0.5 on a line) are neighbours.
  const auto data    = torch::tensor({0., 0., 0.5, 0., 1., 0.}, torch::kDouble).view({3, 2});
  const auto queries = torch::tensor({0., 0., 5., 5.}, torch::kDouble).view({2, 2});
  const auto found   = radius_neighbors(data, queries, 0.5);
  EXPECT_TRUE(torch::equal(found.row_splits, torch::tensor({0, 2, 2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(found.neighbors_index, torch::tensor({0, 1}, torch::kLong)));
  // No data at all: every row empty.
  const auto none = radius_neighbors(torch::zeros({0, 3}), torch::rand({4, 3}), 0.1);
  EXPECT_TRUE(torch::equal(none.row_splits, torch::zeros({5}, torch::kLong)));
  EXPECT_EQ(none.nnz(), 0);
}

TEST(NeighborSearch, RefusesBadArguments)
{
  EXPECT_THROW(radius_neighbors(torch::rand({5, 4}), torch::rand({2, 4}), 0.1), std::invalid_argument);
  EXPECT_THROW(radius_neighbors(torch::rand({5, 2}), torch::rand({2, 3}), 0.1), std::invalid_argument);
  EXPECT_THROW(radius_neighbors(torch::rand({5, 2}), torch::rand({2, 2}), 0.), std::invalid_argument);
  EXPECT_THROW(radius_neighbors(torch::rand({5}), torch::rand({2, 2}), 0.1), std::invalid_argument);
  EXPECT_THROW(radius_neighbors(torch::full({5, 2}, NAN), torch::rand({2, 2}), 0.1), std::invalid_argument);
  EXPECT_THROW(radius_neighbors(torch::ones({5, 2}, torch::kLong), torch::rand({2, 2}), 0.1), std::invalid_argument);
}

TEST(NeighborSearch, PackShiftsRowsAndIndices)
{
  torch::manual_seed(1);
  const auto y0 = torch::rand({30, 2}), x0 = torch::rand({7, 2});
  const auto y1 = torch::rand({20, 2}), x1 = torch::rand({5, 2});
  const auto packed   = pack_neighbors({radius_neighbors(y0, x0, 0.3), radius_neighbors(y1, x1, 0.3)}, {30, 20});
  const auto expected = radius_neighbors(torch::cat({y0, y1 + 10.}), torch::cat({x0, x1 + 10.}), 0.3);
  EXPECT_TRUE(torch::equal(packed.row_splits, expected.row_splits));
  EXPECT_TRUE(torch::equal(packed.neighbors_index, expected.neighbors_index));
  EXPECT_THROW(pack_neighbors({radius_neighbors(y0, x0, 0.3)}, {30, 20}), std::invalid_argument);
}
