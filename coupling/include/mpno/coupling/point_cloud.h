// The latent grid of a point-cloud operator (GINO, method.md Sec. 4.3) and the geometry
// features on it. deal.II headers only.
#pragma once

#include <deal.II/base/point.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * The points of the uniform grid of @p points_per_axis points per axis on the box
   * [@p lower, @p upper], boundary included (lower + i / (n - 1) (upper - lower)),
   * row-major (the last axis fastest): the layout of a tensor [n, ..., n, dim], as
   * neuraloperator's GINO takes `latent_queries`.
   * @throws std::invalid_argument for fewer than 2 points per axis.
   */
  template <int dim>
  std::vector<dealii::Point<dim>>
  uniform_grid_points(const unsigned int        points_per_axis,
                      const dealii::Point<dim> &lower,
                      const dealii::Point<dim> &upper)
  {
    if (points_per_axis < 2)
      throw std::invalid_argument("uniform_grid_points: at least 2 points per axis, got " +
                                  std::to_string(points_per_axis));
    std::size_t total = 1;
    for (int d = 0; d < dim; ++d)
      total *= points_per_axis;
    std::vector<dealii::Point<dim>> points(total);
    for (std::size_t index = 0; index < total; ++index)
      {
        std::size_t rest = index;
        for (int d = dim - 1; d >= 0; --d)
          {
            const double t   = static_cast<double>(rest % points_per_axis) / (points_per_axis - 1);
            points[index][d] = lower[d] + t * (upper[d] - lower[d]);
            rest /= points_per_axis;
          }
      }
    return points;
  }

  /**
   * The latent features of a geometry at @p points: per point the signed distance
   * @p distances[i] (> 0 inside the domain) and the dim coordinates, [points, 1 + dim]
   * row-major, float32 (neuraloperator's GINO concatenates such features to the input
   * GNO's output on the latent grid).
   * @throws std::invalid_argument if the sizes differ.
   */
  template <int dim>
  std::vector<float>
  distance_and_coordinates(const std::vector<dealii::Point<dim>> &points, const std::vector<double> &distances)
  {
    if (points.size() != distances.size())
      throw std::invalid_argument("distance_and_coordinates: " + std::to_string(points.size()) + " points but " +
                                  std::to_string(distances.size()) + " distances");
    std::vector<float> features;
    features.reserve(points.size() * (1 + dim));
    for (std::size_t i = 0; i < points.size(); ++i)
      {
        features.push_back(static_cast<float>(distances[i]));
        for (int d = 0; d < dim; ++d)
          features.push_back(static_cast<float>(points[i][d]));
      }
    return features;
  }
} // namespace mpno
