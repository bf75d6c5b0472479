#pragma once

// Internal to libmpno_plugin: the current instance of a Problem whose geometry varies,
// as a point cloud (`mpno generate` writes it, `mpno solve` predicts from it). No
// LibTorch header.

#include <deal.II/base/point.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/dataset_file.h>
#include <mpno/coupling/point_cloud.h>
#include <mpno/plugin/problem.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mpno
{
  namespace plugin
  {
    /**
     * Samples the current instance of @p problem (Problem::Interface::geometry_varies())
     * as a point cloud (method.md Sec. 4.3): the DoFs' support points, the input fields
     * there (channels input_names()), the solution at them, the basis integrals as
     * weights, and on the latent grid of `latent_points` points per axis on
     * bounding_box() the signed distance and the coordinates (1 + dim channels).
     */
    template <int dim>
    class PointCloudSampler
    {
    public:
      PointCloudSampler(const Problem::Interface<dim> &problem, const unsigned int latent_points)
        : problem(problem)
        , latent_points(latent_points)
      {
        const auto [lower, upper] = problem.bounding_box();
        latent                    = uniform_grid_points<dim>(latent_points, lower, upper);
      }

      /** An empty set named @p name with the problem's channels and this latent grid. */
      PointCloudDataSet
      empty_set(const std::string &name) const
      {
        PointCloudDataSet set;
        set.name                    = name;
        set.dimension               = dim;
        set.in_channels             = problem.input_names().size();
        set.out_channels            = 1;
        set.latent_feature_channels = 1 + dim;
        set.latent_shape.assign(dim, latent_points);
        for (const dealii::Point<dim> &p : latent)
          for (int d = 0; d < dim; ++d)
            set.latent_queries.push_back(static_cast<float>(p[d]));
        return set;
      }

      /** The current instance (after sample()) with the solution @p solution (by DoF;
       *  nullptr: y left empty, for inference), drawn from @p seed. */
      PointCloudSample
      sample(const dealii::Vector<double> *solution, const std::uint64_t seed) const
      {
        PointCloudSample                      s;
        const std::vector<dealii::Point<dim>> points   = problem.support_points();
        const dealii::Vector<double>          weights  = problem.basis_integrals();
        const unsigned int                    channels = problem.input_names().size();
        s.seed                                         = seed;
        s.points.reserve(points.size() * dim);
        for (const dealii::Point<dim> &p : points)
          for (int d = 0; d < dim; ++d)
            s.points.push_back(static_cast<float>(p[d]));
        s.x.resize(points.size() * channels);
        for (unsigned int c = 0; c < channels; ++c)
          {
            std::vector<double> values(points.size());
            problem.input_field(c).value_list(points, values);
            for (std::size_t i = 0; i < points.size(); ++i)
              s.x[i * channels + c] = static_cast<float>(values[i]);
          }
        if (solution != nullptr)
          s.y.assign(solution->begin(), solution->end());
        s.weights.assign(weights.begin(), weights.end());
        s.latent_features = distance_and_coordinates(latent, problem.signed_distance(latent));
        return s;
      }

    private:
      const Problem::Interface<dim>  &problem;
      unsigned int                    latent_points;
      std::vector<dealii::Point<dim>> latent;
    };
  } // namespace plugin
} // namespace mpno
