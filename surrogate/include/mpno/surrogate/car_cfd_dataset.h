#pragma once

#include <mpno/surrogate/gino.h>

#include <torch/types.h>

#include <string>
#include <vector>

namespace mpno
{
  /**
   * One car of neuraloperator's car-CFD data (ShapeNet cars, the GINO paper's first
   * experiment; method.md Sec. 4.3): the surface mesh's vertices, the pressure on them,
   * and a regular latent grid around the car with the signed distance to its surface.
   * All float32 on the CPU.
   */
  struct CarCFDInstance
  {
    torch::Tensor vertices;     ///< [n, 3] surface points
    torch::Tensor press;        ///< [n, 1] pressure at the vertices (the file holds [1, n])
    torch::Tensor query_points; ///< [g, g, g, 3] the latent grid's coordinates
    torch::Tensor distance;     ///< [g, g, g, 1] signed distance to the surface there

    /** The GINO input of this car as in neuraloperator's car-CFD training:
     *  input_geom = output_queries = vertices, latent_queries = query_points,
     *  latent_features = distance, no input function (in_channels = 0,
     *  latent_feature_channels = 1); the target is press. */
    GINOInput
    gino_input() const;
  };

  /**
   * Read a car-CFD file: a torch.save'd list of dicts, one per car, each with at least
   * the keys `vertices` [n, 3], `press` [1, n] (or [n] or [n, 1]), `query_points`
   * [g1, g2, g3, 3] and `distance` [g1, g2, g3, 1] (the same g1, g2, g3); other keys
   * (e.g. `centroids`, `triangle_areas`) are ignored. Counts n may differ from car to car.
   *
   * @param max_samples keep the first max_samples cars (0: all).
   * @throws std::runtime_error naming the file if it is missing, unreadable or not a
   *   list of dicts; std::invalid_argument naming the file, the car index and the key
   *   for a missing key (listing those present), a value that is not a tensor, a wrong
   *   shape, a non-floating dtype or non-finite values.
   */
  std::vector<CarCFDInstance>
  load_car_cfd_pt(const std::string &path, int64_t max_samples = 0);

  /**
   * Write @p cars in the format load_car_cfd_pt() reads (and Python's torch.load: a list
   * of dicts with `vertices`, `press` [1, n], `query_points`, `distance`), atomically
   * (io::write_file_atomically()). @throws std::runtime_error naming the path.
   */
  void
  save_car_cfd_pt(const std::string &path, const std::vector<CarCFDInstance> &cars);
} // namespace mpno
