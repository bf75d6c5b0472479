#pragma once

// bench_training --model gino: GINO training throughput and per-geometry inference time
// on synthetic "cars" (ellipsoids of random semi-axes around the centre of [0, 1]^3 with
// a pressure-like function of the normal), the car-CFD layout: the vertices are input
// and output points, the latent grid linspace(0, 1, G)^3 carries the signed distance.

#include <mpno/surrogate/car_cfd_dataset.h>
#include <mpno/surrogate/gino.h>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

namespace bench
{
  struct GINOBenchConfig
  {
    int64_t       grid = 32, points = 3000, batch = 4, hidden = 64, modes = 16, layers = 4;
    int64_t       steps = 10, warmup = 2;
    double        radius = 0.; ///< 0: 1.75 latent grid spacings
    torch::Device device = torch::kCPU;
  };

  /** A car with about @p points vertices (+-25%, so instances differ) on a g^3 grid. */
  inline mpno::CarCFDInstance
  synthetic_car(const int64_t points, const int64_t g)
  {
    namespace F                 = torch::nn::functional;
    const int64_t        n      = points * 3 / 4 + torch::randint(points / 2 + 1, {1}).item<int64_t>();
    const auto           axes   = 0.2 + 0.15 * torch::rand({3});
    const auto           dir    = F::normalize(torch::randn({n, 3}), F::NormalizeFuncOptions().dim(1));
    const auto           normal = F::normalize(dir / axes, F::NormalizeFuncOptions().dim(1));
    mpno::CarCFDInstance car;
    car.vertices = 0.5 + dir * axes;
    car.press    = (1. - 2. * normal.slice(1, 0, 1).pow(2) + 0.5 * normal.slice(1, 2, 3)).contiguous();
    std::vector<torch::Tensor> axis(3, torch::linspace(0., 1., g));
    car.query_points = torch::stack(torch::meshgrid(axis, "ij"), -1);
    car.distance     = (((car.query_points - 0.5) / axes).norm(2, -1, true) - 1.) * axes.mean();
    return car;
  }

  /**
   * Train a GINO (car-CFD configuration: no input function, the distance as latent
   * feature, relative L2 loss) for c.steps steps of c.batch cars (neighbours found once
   * per car beforehand, as a training loop over a fixed dataset would) and time one
   * car's inference with and without the neighbour search, and the search alone (both
   * radius searches on the CPU). Returns the JSON fields.
   */
  inline std::string
  run_gino_benchmark(const GINOBenchConfig &c, const mpno::PrecisionPolicy &precision)
  {
    const double      radius = c.radius > 0 ? c.radius : 1.75 / static_cast<double>(c.grid - 1);
    mpno::GINOOptions options;
    options.in_channels             = 0;
    options.in_gno_transform_type   = "linear_kernelonly";
    options.latent_feature_channels = 1;
    options.in_gno_radius = options.out_gno_radius = radius;
    options.fno_n_modes                            = {c.modes, c.modes, c.modes};
    options.fno_hidden_channels                    = c.hidden;
    options.fno_n_layers                           = c.layers;
    mpno::GINO model(options, precision);
    model->to(c.device);

    std::vector<mpno::GINOInput> inputs;
    std::vector<torch::Tensor>   targets;
    int64_t                      total_points = 0, pairs = 0;
    for (int64_t k = 0; k < c.batch; ++k)
      {
        const auto car = synthetic_car(c.points, c.grid);
        inputs.push_back(car.gino_input());
        model->find_neighbors(inputs.back());
        targets.push_back(car.press.to(c.device));
        total_points += car.vertices.size(0);
        pairs += inputs.back().in_neighbors.nnz() + inputs.back().out_neighbors.nnz();
      }
    torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(1e-4));
    const auto          sync = [&] {
      if (c.device.is_cuda())
        torch::cuda::synchronize();
    };
    const auto step = [&] {
      optimizer.zero_grad();
      const auto    outputs = model->forward_batch(inputs);
      torch::Tensor loss    = torch::zeros({}, torch::TensorOptions().device(c.device));
      for (std::size_t k = 0; k < outputs.size(); ++k)
        loss = loss + (outputs[k] - targets[k]).norm() / targets[k].norm();
      loss.backward();
      optimizer.step();
    };
    for (int64_t s = 0; s < c.warmup; ++s)
      step();
    sync();
    using clock      = std::chrono::steady_clock;
    const auto start = clock::now();
    for (int64_t s = 0; s < c.steps; ++s)
      step();
    sync();
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();

    // Per-geometry inference: a new car (neighbour search included) and a known one.
    torch::NoGradGuard no_grad;
    model->eval();
    const auto fresh = synthetic_car(c.points, c.grid).gino_input();
    model->forward(fresh); // warm-up
    sync();
    auto t0 = clock::now();
    model->forward(fresh);
    sync();
    const double    with_search = std::chrono::duration<double>(clock::now() - t0).count();
    mpno::GINOInput searched    = fresh;
    t0                          = clock::now();
    model->find_neighbors(searched);
    const double search = std::chrono::duration<double>(clock::now() - t0).count();
    t0                  = clock::now();
    model->forward(inputs.front());
    sync();
    const double without_search = std::chrono::duration<double>(clock::now() - t0).count();

    std::ostringstream json;
    json << "\"latent_grid\": " << c.grid << ", \"points_per_car\": " << c.points
         << ", \"mean_points\": " << total_points / c.batch << ", \"gno_radius\": " << radius
         << ", \"neighbor_pairs_per_car\": " << pairs / c.batch
         << ", \"seconds_per_step\": " << seconds / static_cast<double>(c.steps)
         << ", \"samples_per_second\": " << static_cast<double>(c.steps * c.batch) / seconds
         << ", \"inference_seconds_per_geometry\": " << with_search
         << ", \"inference_seconds_known_neighbors\": " << without_search
         << ", \"neighbor_search_seconds_per_geometry\": " << search;
    return json.str();
  }
} // namespace bench
