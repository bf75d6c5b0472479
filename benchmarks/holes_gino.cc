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
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/grid_tools.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>
#include <deal.II/numerics/vector_tools.h>

#include <mpno/coupling/darcy.h>
#include <mpno/coupling/linear_solve.h>
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
#include <set>
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

  struct Hole
  {
    dealii::Point<2> centre;
    double           radius;
  };

  /** 1-4 non-overlapping holes drawn from @p seed (rejection sampling). */
  std::vector<Hole>
  random_holes(const std::uint64_t seed)
  {
    std::mt19937_64                        random(seed);
    std::uniform_int_distribution<int>     count(1, 4);
    std::uniform_real_distribution<double> uniform(0., 1.);
    const int                              n   = count(random);
    const double                           gap = 0.05;
    std::vector<Hole>                      holes;
    for (int attempt = 0; static_cast<int>(holes.size()) < n && attempt < 10000; ++attempt)
      {
        Hole         hole;
        const double r      = 0.05 + 0.1 * uniform(random);
        const double margin = gap + r;
        hole.radius         = r;
        hole.centre =
          dealii::Point<2>(margin + (1 - 2 * margin) * uniform(random), margin + (1 - 2 * margin) * uniform(random));
        const bool clear = std::all_of(holes.begin(), holes.end(), [&](const Hole &other) {
          return hole.centre.distance(other.centre) >= hole.radius + other.radius + gap;
        });
        if (clear)
          holes.push_back(hole);
      }
    return holes;
  }

  /** Signed distance to the geometry: positive in the domain, negative inside a hole. */
  double
  signed_distance(const dealii::Point<2> &p, const std::vector<Hole> &holes)
  {
    double d = std::min({p[0], 1. - p[0], p[1], 1. - p[1]});
    for (const Hole &hole : holes)
      d = std::min(d, p.distance(hole.centre) - hole.radius);
    return d;
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

  /** Mesh, Poisson solve and GINO input of the instance drawn from @p seed. */
  Instance
  make_instance(const std::uint64_t seed, const Options &options, const GaussianRandomField<2> &field)
  {
    using namespace dealii;
    const std::vector<Hole> holes = random_holes(seed);
    Triangulation<2>        square, tria;
    GridGenerator::subdivided_hyper_cube(square, options.cells, 0., 1.);
    std::set<Triangulation<2>::active_cell_iterator> removed;
    for (const auto &cell : square.active_cell_iterators())
      if (signed_distance(cell->center(), holes) < 0)
        removed.insert(cell);
    GridGenerator::create_triangulation_with_removed_cells(square, removed, tria);
    for (const auto &cell : tria.active_cell_iterators())
      for (const auto &face : cell->face_iterators())
        if (face->at_boundary())
          {
            const Point<2> c     = face->center();
            const bool     outer = std::min({c[0], 1. - c[0], c[1], 1. - c[1]}) < 1e-12;
            face->set_boundary_id(outer ? 0 : 1);
            // A hole's staircase lies within one cell diagonal of its circle.
            if (!outer && std::abs(signed_distance(c, holes)) > std::sqrt(2.) / options.cells)
              throw std::logic_error("holes_gino: a hole boundary face at (" + std::to_string(c[0]) + ", " +
                                     std::to_string(c[1]) + ") is far from every hole");
          }
    double exact_area = 1.;
    for (const Hole &hole : holes)
      exact_area -= M_PI * hole.radius * hole.radius;

    const auto    start = clock_type::now();
    const FE_Q<2> fe(1);
    DoFHandler<2> dof_handler(tria);
    dof_handler.distribute_dofs(fe);
    AffineConstraints<double> constraints;
    VectorTools::interpolate_boundary_values(dof_handler, 0, Functions::ZeroFunction<2>(), constraints);
    VectorTools::interpolate_boundary_values(dof_handler, 1, Functions::ZeroFunction<2>(), constraints);
    constraints.close();
    DynamicSparsityPattern dsp(dof_handler.n_dofs());
    DoFTools::make_sparsity_pattern(dof_handler, dsp, constraints, false);
    TrilinosWrappers::SparseMatrix matrix;
    matrix.reinit(complete_index_set(dof_handler.n_dofs()), dsp, MPI_COMM_SELF);
    Vector<double> rhs(dof_handler.n_dofs()), lumped(dof_handler.n_dofs());

    const GridFunction f(field.n_points_per_axis(),
                         field.n_points_per_axis(),
                         field.sample(seed),
                         GridFunction::Interpolation::bilinear);
    const QGauss<2>    quadrature(2);
    FEValues<2> values(fe, quadrature, update_values | update_gradients | update_quadrature_points | update_JxW_values);
    FullMatrix<double>                   cell_matrix(4, 4);
    Vector<double>                       cell_rhs(4);
    std::vector<double>                  f_values(quadrature.size());
    std::vector<types::global_dof_index> indices(4);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        values.reinit(cell);
        f.value_list(values.get_quadrature_points(), f_values);
        cell_matrix = 0;
        cell_rhs    = 0;
        cell->get_dof_indices(indices);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          for (unsigned int i = 0; i < 4; ++i)
            {
              for (unsigned int j = 0; j < 4; ++j)
                cell_matrix(i, j) += values.shape_grad(i, q) * values.shape_grad(j, q) * values.JxW(q);
              cell_rhs(i) += values.shape_value(i, q) * f_values[q] * values.JxW(q);
              lumped(indices[i]) += values.shape_value(i, q) * values.JxW(q);
            }
        constraints.distribute_local_to_global(cell_matrix, cell_rhs, indices, matrix, rhs);
      }
    matrix.compress(VectorOperation::add);
    TrilinosWrappers::PreconditionAMG                 amg;
    TrilinosWrappers::PreconditionAMG::AdditionalData data;
    data.elliptic        = true;
    data.smoother_type   = "Chebyshev";
    data.smoother_sweeps = 2;
    amg.initialize(matrix, data);
    Vector<double> solution(dof_handler.n_dofs());
    solve_cg({&matrix, &rhs, &constraints, &amg}, solution, {1e-10, 1000, 3});

    Instance instance;
    instance.solve_seconds = seconds_since(start);
    instance.area_error    = std::abs(GridTools::volume(tria) - exact_area) / exact_area;
    std::vector<Point<2>> points(dof_handler.n_dofs());
    DoFTools::map_dofs_to_support_points(MappingQ1<2>(), dof_handler, points);
    const auto n              = static_cast<int64_t>(points.size());
    instance.input.input_geom = torch::empty({n, 2});
    instance.input.x          = torch::empty({n, 1});
    instance.u                = torch::empty({n, 1});
    instance.mass             = torch::empty({n, 1});
    auto geom                 = instance.input.input_geom.accessor<float, 2>();
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
    instance.input.output_queries  = instance.input.input_geom;
    const int64_t g                = options.latent;
    instance.input.latent_queries  = latent_grid(g);
    instance.input.latent_features = torch::empty({g, g, 3});
    auto features                  = instance.input.latent_features.accessor<float, 3>();
    for (int64_t i = 0; i < g; ++i)
      for (int64_t j = 0; j < g; ++j)
        {
          const Point<2> p(static_cast<double>(i) / (g - 1), static_cast<double>(j) / (g - 1));
          features[i][j][0] = static_cast<float>(signed_distance(p, holes));
          features[i][j][1] = static_cast<float>(p[0]);
          features[i][j][2] = static_cast<float>(p[1]);
        }
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
