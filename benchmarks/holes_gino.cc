// holes_gino: a GINO trained on a deal.II problem whose geometry changes per instance, in
// full and mixed precision (issue 7's "varying geometry" study).
//
//   holes_gino [--train 250] [--test 50] [--epochs 40] [--cells 64] [--latent 32]
//              [--precision full,mixed] [--seed 0] [--hidden 32] [--modes 12]
//              [--layers 4] [--radius 0.035] [--gno-width 32] [--embed 8] [--batch 1]
//              [--lr 2e-3] [--output DIR]
//
// Instances: -Laplace u = f on the unit square minus 1-4 circular holes (radius in
// [0.05, 0.15], centres at least 0.05 + r from the outer boundary, holes at least 0.05
// apart), u = 0 on the outer boundary (id 0) and on the holes (id 1). Mesh: a uniform
// --cells x --cells mesh of [0, 1]^2 without the cells whose centre lies in a hole
// (GridGenerator::create_triangulation_with_removed_cells), so a hole's boundary is the
// staircase of the removed cells, within one cell diagonal of the circle. f = a
// GaussianRandomField<2> sample (alpha 2, tau 3, 33^2 grid, bilinear). Q1, CG + Trilinos
// ML AMG to 1e-10. Instance i of the training set has seed i, of the test set 1e9 + i
// (geometry and forcing both from it), so the test geometries are unseen.
//
// GINO input (neuraloperator's GINO layout, 2D): input points and output queries = the
// DoFs' support points, input function f there (in_channels 1, `linear` input GNO), the
// latent grid linspace(0, 1, --latent)^2 with 3 latent features: the signed distance to
// the exact geometry (min of the distances to the outer boundary and |x - c_k| - r_k;
// negative inside holes) and the two coordinates. f and u are normalised by the mean and
// std of the training points (UnitGaussianNormalizer). Loss: relative L2 of u weighted by
// the lumped mass (the diagonal of the Q1 mass matrix, a quadrature of the L2 norm),
// summed over the batch; Adam, cosine learning rate over --epochs, one thread.
//
// Prints per precision ("RESULT ..."): the mean held-out relative L2 error (lumped-mass
// weighted, and unweighted over the support points), training samples/s, peak RSS of the
// process so far (getrusage ru_maxrss: the run with full precision first sees only its
// own, a later one the maximum of all before it), and the per-geometry inference time
// with the neighbour search, the search alone and the forward with known neighbours,
// against the classical solve (assembly, AMG setup and CG) of the same instance.
// --seed sets the model's initialisation and the shuffling (the data do not change).
#include <deal.II/base/mpi.h>
#include <deal.II/grid/grid_tools.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/darcy.h>
#include <mpno/coupling/holes.h>
#include <mpno/coupling/linear_solve.h>
#include <mpno/coupling/point_cloud.h>
#include <mpno/coupling/random_field.h>

#include <mpno/surrogate/gino.h>
#include <mpno/surrogate/normalizer.h>
#include <mpno/surrogate/precision.h>

#include <torch/torch.h>

#include "bench_options.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>

namespace
{
  using namespace mpno;
  using clock_type = std::chrono::steady_clock;

  double
  seconds_since(const clock_type::time_point start)
  {
    return std::chrono::duration<double>(clock_type::now() - start).count();
  }

  struct Options
  {
    int64_t                  train = 250, test = 50, epochs = 40, cells = 64, latent = 32, seed = 0;
    int64_t                  hidden = 32, modes = 12, batch = 1, gno_width = 32, embed = 8, layers = 4;
    double                   radius = 0.035, learning_rate = 2e-3;
    std::vector<std::string> precisions{"full", "mixed"};
    std::string              output = "output/holes_gino";
  };

  Options
  parse(int argc, char **argv)
  {
    Options options;
    for (int i = 1; i < argc; ++i)
      {
        const std::string arg = argv[i];
        if (i + 1 >= argc)
          throw std::invalid_argument("option " + arg + " needs a value");
        const std::string value = argv[++i];
        if (arg == "--train")
          options.train = bench::parse_integer(arg, value, 1);
        else if (arg == "--test")
          options.test = bench::parse_integer(arg, value, 1);
        else if (arg == "--epochs")
          options.epochs = bench::parse_integer(arg, value, 1);
        else if (arg == "--cells")
          options.cells = bench::parse_integer(arg, value, 16);
        else if (arg == "--latent")
          options.latent = bench::parse_integer(arg, value, 8);
        else if (arg == "--seed")
          options.seed = bench::parse_integer(arg, value, 0);
        else if (arg == "--hidden")
          options.hidden = bench::parse_integer(arg, value, 1);
        else if (arg == "--modes")
          options.modes = bench::parse_integer(arg, value, 1);
        else if (arg == "--gno-width")
          options.gno_width = bench::parse_integer(arg, value, 1);
        else if (arg == "--embed")
          options.embed = bench::parse_integer(arg, value, 1);
        else if (arg == "--layers")
          options.layers = bench::parse_integer(arg, value, 1);
        else if (arg == "--batch")
          options.batch = bench::parse_integer(arg, value, 1);
        else if (arg == "--radius")
          options.radius = bench::parse_number(
            arg,
            value,
            [](double v) { return v > 0; },
            "a positive number");
        else if (arg == "--lr")
          options.learning_rate = bench::parse_number(
            arg,
            value,
            [](double v) { return v > 0; },
            "a positive number");
        else if (arg == "--output")
          options.output = value;
        else if (arg == "--precision")
          {
            options.precisions.clear();
            std::stringstream in(value);
            for (std::string p; std::getline(in, p, ',');)
              {
                parse_spectral_precision(p); // refuses an unknown name
                options.precisions.push_back(p);
              }
          }
        else
          throw std::invalid_argument("unknown option '" + arg + "' (see the head of holes_gino.cc)");
      }
    return options;
  }

  /** One solved instance as GINO sees it (float32 tensors, raw f and u). */
  struct Instance
  {
    GINOInput     input;             ///< x = f at the support points, encoded later
    torch::Tensor u;                 ///< [n, 1]
    torch::Tensor mass;              ///< [n, 1] lumped mass
    double        solve_seconds = 0; ///< assembly + AMG setup + CG
    double        area_error    = 0; ///< |mesh area - (1 - sum pi r^2)| / (1 - sum pi r^2)
  };

  torch::Tensor
  latent_grid(const int64_t g)
  {
    std::vector<torch::Tensor> axes(2, torch::linspace(0., 1., g));
    return torch::stack(torch::meshgrid(axes, "ij"), -1);
  }

  /** Mesh, Poisson solve and GINO input of the instance drawn from @p seed (HolesSolver). */
  Instance
  make_instance(const std::uint64_t seed, const Options &options, const GaussianRandomField<2> &field)
  {
    using namespace dealii;
    HolesParameters parameters;
    parameters.n_cells_per_side   = options.cells;
    const std::vector<Hole> holes = random_holes(seed, parameters);
    HolesSolver             solver(parameters);
    solver.make_geometry(holes);

    const auto         start = clock_type::now();
    const GridFunction f(field.n_points_per_axis(),
                         field.n_points_per_axis(),
                         field.sample(seed),
                         GridFunction::Interpolation::bilinear);
    solver.assemble(f);
    const LinearSystem system = solver.linear_system();
    system.get_preconditioner();
    Vector<double> solution(solver.get_dof_handler().n_dofs());
    solve_cg(system, solution, {1e-10, 1000, 3});
    const Vector<double> &lumped = solver.lumped_mass();

    Instance instance;
    instance.solve_seconds  = seconds_since(start);
    const double exact_area = holes_exact_area(holes);
    instance.area_error     = std::abs(GridTools::volume(solver.get_triangulation()) - exact_area) / exact_area;
    const std::vector<Point<2>> points = solver.support_points();
    const auto                  n      = static_cast<int64_t>(points.size());
    instance.input.input_geom          = torch::empty({n, 2});
    instance.input.x                   = torch::empty({n, 1});
    instance.u                         = torch::empty({n, 1});
    instance.mass                      = torch::empty({n, 1});
    auto geom                          = instance.input.input_geom.accessor<float, 2>();
    auto x = instance.input.x.accessor<float, 2>(), u = instance.u.accessor<float, 2>(),
         m = instance.mass.accessor<float, 2>();
    for (int64_t i = 0; i < n; ++i)
      {
        geom[i][0] = static_cast<float>(points[i][0]);
        geom[i][1] = static_cast<float>(points[i][1]);
        x[i][0]    = static_cast<float>(f.value(points[i]));
        u[i][0]    = static_cast<float>(solution[i]);
        m[i][0]    = static_cast<float>(lumped[i]);
      }
    instance.input.output_queries      = instance.input.input_geom;
    const int64_t g                    = options.latent;
    instance.input.latent_queries      = latent_grid(g);
    const std::vector<Point<2>> latent = uniform_grid_points<2>(g, Point<2>(0., 0.), Point<2>(1., 1.));
    std::vector<double>         distances(latent.size());
    for (std::size_t i = 0; i < latent.size(); ++i)
      distances[i] = holes_signed_distance(latent[i], holes);
    const std::vector<float> features = distance_and_coordinates(latent, distances);
    instance.input.latent_features    = torch::from_blob(const_cast<float *>(features.data()), {g, g, 3}).clone();
    return instance;
  }

  std::vector<Instance>
  generate(const int64_t n, const std::uint64_t seed0, const Options &options, const GaussianRandomField<2> &field)
  {
    std::vector<Instance> instances;
    for (int64_t i = 0; i < n; ++i)
      instances.push_back(make_instance(seed0 + i, options, field));
    return instances;
  }

  /** Tensors [n_k, 1] concatenated as [1, 1, sum n_k] (the normalizer's layout). */
  torch::Tensor
  stacked(const std::vector<torch::Tensor> &parts)
  {
    return torch::cat(parts).t().unsqueeze(0);
  }

  /** Normalizer applied to [n, 1]. */
  torch::Tensor
  encode(const UnitGaussianNormalizer &normalizer, const torch::Tensor &values)
  {
    return normalizer.encode(values.t().unsqueeze(0)).squeeze(0).t();
  }
  torch::Tensor
  decode(const UnitGaussianNormalizer &normalizer, const torch::Tensor &values)
  {
    return normalizer.decode(values.t().unsqueeze(0)).squeeze(0).t();
  }

  /** sqrt(sum m e^2 / sum m u^2), as a 0-d tensor. */
  torch::Tensor
  weighted_relative_l2(const torch::Tensor &prediction, const torch::Tensor &u, const torch::Tensor &mass)
  {
    return ((prediction - u).pow(2) * mass).sum().sqrt() / (u.pow(2) * mass).sum().sqrt();
  }

  double
  peak_rss_mb()
  {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.;
  }
} // namespace

int
main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  try
    {
      const Options options = parse(argc, argv);
      torch::set_num_threads(1);
      const GaussianRandomField<2> field(33, 2., 3.);
      auto                         start = clock_type::now();
      std::vector<Instance>        train = generate(options.train, 0, options, field);
      std::vector<Instance>        test  = generate(options.test, 1000000000, options, field);
      double                       dofs = 0, solve_seconds = 0, area_error = 0;
      for (const Instance &instance : test)
        {
          area_error = std::max(area_error, instance.area_error);
          dofs += static_cast<double>(instance.u.size(0)) / test.size();
          solve_seconds += instance.solve_seconds / test.size();
        }
      std::cout << "holes_gino: " << options.train << " + " << options.test << " instances generated in "
                << seconds_since(start) << " s; " << std::setprecision(4) << dofs << " DoFs on average, "
                << solve_seconds
                << " s per classical solve (assembly, AMG, CG); relative area error of the staircase holes <= "
                << area_error << "; latent grid " << options.latent << "^2" << std::endl;

      // Normalisation from the training points, as neuraloperator's UnitGaussianNormalizer.
      UnitGaussianNormalizer     f_normalizer, u_normalizer;
      std::vector<torch::Tensor> f_parts, u_parts;
      for (const Instance &instance : train)
        {
          f_parts.push_back(instance.input.x);
          u_parts.push_back(instance.u);
        }
      f_normalizer.fit(stacked(f_parts));
      u_normalizer.fit(stacked(u_parts));
      for (auto *set : {&train, &test})
        for (Instance &instance : *set)
          instance.input.x = encode(f_normalizer, instance.input.x);

      for (const std::string &precision : options.precisions)
        {
          torch::manual_seed(options.seed);
          GINOOptions gino;
          gino.gno_coord_dim                     = 2;
          gino.in_channels                       = 1;
          gino.out_channels                      = 1;
          gino.latent_feature_channels           = 3;
          gino.in_gno_transform_type             = "linear";
          gino.in_gno_radius                     = options.radius;
          gino.out_gno_radius                    = options.radius;
          gino.gno_embed_channels                = options.embed;
          gino.in_gno_channel_mlp_hidden_layers  = {options.gno_width, options.gno_width};
          gino.out_gno_channel_mlp_hidden_layers = {options.gno_width, options.gno_width};
          gino.fno_n_modes                       = {options.modes, options.modes};
          gino.fno_hidden_channels               = options.hidden;
          gino.fno_n_layers                      = options.layers;
          gino.projection_channels               = 64;
          PrecisionPolicy policy;
          policy.spectral_precision = parse_spectral_precision(precision);
          policy.stabilizer =
            policy.spectral_precision == SpectralPrecision::full ? Stabilizer::none : Stabilizer::tanh;
          GINO model(gino, policy);

          // Neighbours once per geometry (fixed dataset), as a training loop over it would.
          for (auto *set : {&train, &test})
            for (Instance &instance : *set)
              {
                instance.input.in_neighbors  = {};
                instance.input.out_neighbors = {};
                model->find_neighbors(instance.input);
              }
          double pairs = 0;
          for (const Instance &instance : train)
            pairs += static_cast<double>(instance.input.in_neighbors.nnz() + instance.input.out_neighbors.nnz()) /
                     train.size();

          torch::optim::Adam       optimizer(model->parameters(),
                                       torch::optim::AdamOptions(options.learning_rate).weight_decay(1e-4));
          std::mt19937_64          generator(options.seed);
          std::vector<std::size_t> order(train.size());
          std::iota(order.begin(), order.end(), 0);
          double train_seconds = 0;
          for (int64_t epoch = 0; epoch < options.epochs; ++epoch)
            {
              // Cosine annealing (torch.optim.lr_scheduler.CosineAnnealingLR, T_max = epochs, per epoch).
              const double lr = 0.5 * options.learning_rate * (1. + std::cos(M_PI * epoch / options.epochs));
              for (auto &group : optimizer.param_groups())
                static_cast<torch::optim::AdamOptions &>(group.options()).lr(lr);
              std::shuffle(order.begin(), order.end(), generator);
              model->train();
              const auto epoch_start = clock_type::now();
              double     loss_sum    = 0;
              for (std::size_t b = 0; b < order.size(); b += options.batch)
                {
                  std::vector<GINOInput> inputs;
                  const std::size_t      end = std::min(order.size(), b + options.batch);
                  for (std::size_t k = b; k < end; ++k)
                    inputs.push_back(train[order[k]].input);
                  optimizer.zero_grad();
                  const auto    outputs = model->forward_batch(inputs);
                  torch::Tensor loss    = torch::zeros({});
                  for (std::size_t k = b; k < end; ++k)
                    {
                      const Instance &instance = train[order[k]];
                      loss =
                        loss + weighted_relative_l2(decode(u_normalizer, outputs[k - b]), instance.u, instance.mass);
                    }
                  loss.backward();
                  optimizer.step();
                  loss_sum += loss.item<double>();
                }
              train_seconds += seconds_since(epoch_start);
              if (epoch % 5 == 4 || epoch + 1 == options.epochs)
                std::cout << "  " << precision << " epoch " << epoch + 1 << ": lr " << lr << ", training loss "
                          << loss_sum / train.size() << ", " << (epoch + 1) * train.size() / train_seconds
                          << " samples/s" << std::endl;
            }

          // Held-out geometries, one at a time: neighbour search, forward, errors.
          torch::NoGradGuard no_grad;
          model->eval();
          double l2 = 0, l2_points = 0, max_l2 = 0, search = 0, forward = 0;
          for (const Instance &instance : test)
            {
              GINOInput fresh    = instance.input;
              fresh.in_neighbors = fresh.out_neighbors = {};
              auto t0                                  = clock_type::now();
              model->find_neighbors(fresh);
              search += seconds_since(t0) / test.size();
              t0                    = clock_type::now();
              const auto prediction = decode(u_normalizer, model->forward(fresh));
              forward += seconds_since(t0) / test.size();
              const double error = weighted_relative_l2(prediction, instance.u, instance.mass).item<double>();
              l2 += error / test.size();
              max_l2 = std::max(max_l2, error);
              l2_points += ((prediction - instance.u).norm() / instance.u.norm()).item<double>() / test.size();
            }
          std::cout << std::setprecision(4) << "RESULT precision " << precision << ": held-out relative L2 " << l2
                    << " (max " << max_l2 << ", unweighted " << l2_points << ") on " << test.size()
                    << " unseen geometries; " << options.epochs * train.size() / train_seconds
                    << " samples/s; peak RSS " << peak_rss_mb() << " MB; inference per geometry "
                    << (search + forward) * 1e3 << " ms (neighbour search " << search * 1e3 << " ms, forward "
                    << forward * 1e3 << " ms) vs classical solve " << solve_seconds * 1e3 << " ms; " << pairs
                    << " neighbour pairs per geometry" << std::endl;
        }
    }
  catch (const std::exception &error)
    {
      std::cerr << "holes_gino: " << error.what() << std::endl;
      return 1;
    }
  return 0;
}
