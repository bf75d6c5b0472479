// sphere_sfno: an SFNO trained on a deal.II problem on the unit sphere, in full and mixed
// precision (issue 6's acceptance study, before the problem joins the Problem plugins).
//
//   sphere_sfno [--train 400] [--test 50] [--nlat 33] [--epochs 20] [--refinements 4]
//               [--precision full,mixed] [--seed 0] [--output DIR]
//
// Instances: -div_S(a grad_S u) + u = f on SphereSolver's mesh (Q1, `--refinements`), with
// a = exp(g_a / 2) and f = g_f, g seeded random fields of degree 12 (alpha 2.5, tau 3, unit
// variance); CG + AMG to 1e-10. Inputs (a, f) are sampled on an equiangular grid of nlat x
// 2 (nlat - 1) points and on the twice finer one; the FE solution is projected onto
// spherical harmonics of degree <= 32 and synthesised on both grids. The SFNO (hidden 32,
// 4 layers, n_modes (16, 32)) trains on the coarse grid and is tested there and zero-shot
// on the fine one. Prints the relative L2 / H1 test errors and samples/s per precision.
// --seed sets the model's initialisation and the shuffling (the data do not change).
#include <deal.II/base/mpi.h>

#include <mpno/coupling/lat_lon_grid.h>
#include <mpno/coupling/linear_solve.h>
#include <mpno/coupling/sphere.h>

#include <mpno/surrogate/neural_operator.h>
#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/sfno.h>
#include <mpno/surrogate/trainer.h>

#include <torch/torch.h>

#include "bench_options.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace
{
  using namespace mpno;

  struct Options
  {
    int64_t                  train = 400, test = 50, nlat = 33, epochs = 20, refinements = 4, seed = 0;
    std::vector<std::string> precisions{"full", "mixed"};
    std::string              output = "output/sphere_sfno";
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
        else if (arg == "--nlat")
          options.nlat = bench::parse_integer(arg, value, 5);
        else if (arg == "--epochs")
          options.epochs = bench::parse_integer(arg, value, 1);
        else if (arg == "--refinements")
          options.refinements = bench::parse_integer(arg, value, 1);
        else if (arg == "--seed")
          options.seed = bench::parse_integer(arg, value, 0);
        else if (arg == "--output")
          options.output = value;
        else if (arg == "--precision")
          {
            options.precisions.clear();
            std::stringstream in(value);
            for (std::string p; std::getline(in, p, ',');)
              options.precisions.push_back(p);
          }
        else
          throw std::invalid_argument("unknown option '" + arg + "' (see the head of sphere_sfno.cc)");
      }
    return options;
  }

  /** Inputs [n, 2, nlat, nlon] and solutions [n, 1, nlat, nlon] on both grids. */
  struct Data
  {
    TensorDataset coarse, fine;
  };

  Data
  generate(SphereSolver &solver, const LatLonGrid &coarse, const LatLonGrid &fine, int64_t n, std::uint64_t seed0)
  {
    Data       data;
    const auto fill = [](const LatLonGrid &grid, int64_t n, int64_t channels) {
      return torch::zeros({n, channels, grid.n_latitudes(), grid.n_longitudes()}, torch::kFloat32);
    };
    data.coarse.x   = fill(coarse, n, 2);
    data.coarse.y   = fill(coarse, n, 1);
    data.fine.x     = fill(fine, n, 2);
    data.fine.y     = fill(fine, n, 1);
    const auto view = [](torch::Tensor t, int64_t i, int64_t c) {
      return dealii::ArrayView<float>(t[i][c].data_ptr<float>(), t[i][c].numel());
    };
    for (int64_t i = 0; i < n; ++i)
      {
        const std::uint64_t              seed = seed0 + 2 * i;
        const ExponentialOfExpansion     a(sphere_random_field_coefficients(12, 2.5, 3., seed), 0.5);
        const SphericalHarmonicExpansion f(sphere_random_field_coefficients(12, 2.5, 3., seed + 1));
        solver.assemble(a, f);
        const LinearSystem     system = solver.linear_system();
        dealii::Vector<double> u(system.rhs->size());
        solve_cg(system, u, {1e-10, 1000, 3});
        const std::vector<double> c = solver.spherical_harmonic_coefficients(u, 32);
        for (auto [grid, set] : {std::pair{&coarse, &data.coarse}, std::pair{&fine, &data.fine}})
          {
            grid->sample(a, view(set->x, i, 0));
            grid->sample(f, view(set->x, i, 1));
            grid->synthesis(c, view(set->y, i, 0));
          }
      }
    return data;
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
      SphereSolver     solver({static_cast<unsigned int>(options.refinements), 1});
      const auto       nlon = 2 * (options.nlat - 1);
      const LatLonGrid coarse("equiangular", options.nlat, nlon), fine("equiangular", 2 * options.nlat - 1, 2 * nlon);
      auto             start = std::chrono::steady_clock::now();
      const Data       train = generate(solver, coarse, fine, options.train, 0);
      const Data       test  = generate(solver, coarse, fine, options.test, 1000000000);
      std::cout << "sphere_sfno: " << solver.get_dof_handler().n_dofs() << " DoFs, " << options.train << " + "
                << options.test << " instances generated in "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s; grids "
                << options.nlat << " x " << nlon << " and " << 2 * options.nlat - 1 << " x " << 2 * nlon << std::endl;

      const std::string coarse_name = std::to_string(options.nlat) + "x" + std::to_string(nlon);
      const std::string fine_name   = std::to_string(2 * options.nlat - 1) + "x" + std::to_string(2 * nlon);
      for (const std::string &precision : options.precisions)
        {
          torch::manual_seed(options.seed);
          SFNOOptions sfno;
          sfno.in_channels     = 2;
          sfno.out_channels    = 1;
          sfno.hidden_channels = 32;
          sfno.n_layers        = 4;
          sfno.n_modes         = {16, 32};
          PrecisionPolicy policy;
          policy.spectral_precision = parse_spectral_precision(precision);
          policy.stabilizer =
            policy.spectral_precision == SpectralPrecision::full ? Stabilizer::none : Stabilizer::tanh;
          auto           model = make_neural_operator("sfno", sfno.to_text(), policy);
          TrainerOptions training;
          training.epochs        = options.epochs;
          training.batch_size    = 16;
          training.learning_rate = 5e-3;
          training.t_max         = options.epochs;
          training.training_loss = "l2";
          training.seed          = options.seed;
          Trainer trainer(model, training, options.output + "/" + precision, &std::cout);
          trainer.set_normalizers(true, true);
          const auto history = trainer.train(train.coarse, {{coarse_name, test.coarse}, {fine_name, test.fine}});
          const auto errors  = trainer.evaluate({{coarse_name, test.coarse}, {fine_name, test.fine}});
          double     samples = 0.;
          for (const auto &record : history)
            samples += record.samples_per_second / history.size();
          std::cout << std::setprecision(4) << "RESULT precision " << precision << ": " << coarse_name << " L2 "
                    << errors.at(coarse_name).l2 << " H1 " << errors.at(coarse_name).h1 << "; zero-shot " << fine_name
                    << " L2 " << errors.at(fine_name).l2 << " H1 " << errors.at(fine_name).h1 << "; " << samples
                    << " samples/s" << std::endl;
        }
    }
  catch (const std::exception &error)
    {
      std::cerr << "sphere_sfno: " << error.what() << std::endl;
      return 1;
    }
  return 0;
}
