// Training throughput and peak memory of the FNO per precision mode, on synthetic data.
//
//   bench_training --grid 128 --precision full,mixed [--hidden 64 --modes 16 --layers 4
//                  --batch 8 --in-channels 1 --steps 10 --warmup 2 --threads 1
//                  --device cpu|cuda] [--model fno|tfno --factorization tucker|cp|tt
//                  --rank 0.05 --implementation factorized|reconstructed]
//                 [--model sfno --sht-grid equiangular|legendre-gauss]
//                 [--model gino --points N --radius R]
//
// Each precision in the comma-separated list runs in its own child process, so that
// each reports its own peak resident set size; each prints one JSON line with the
// configuration, samples_per_second, seconds_per_step and peak_rss_mb. The peak memory
// is the host's resident set size ("peak_memory": "host RSS"): LibTorch 1.13's C++ API
// has no peak-GPU-memory query, so on CUDA the device memory is not measured.
//
// Presets (design.md "Precision policy"): full = float32 everywhere; mixed = float32
// FFT, bfloat16 contraction, tanh stabilizer, autocast where the device multiplies in
// the reduced type natively (mpno::native_reduced_products: CUDA, AVX512-BF16 or AMX
// CPUs; as the parameter files' `Autocast = auto`); half = as mixed with the half FFT
// (emulated on CPU). --autocast on|off and --stabilizer none|tanh override.
//
// --model tfno factorizes the spectral weights (default tucker at rank 0.05, the
// factorized contraction); the JSON line then names the factorization, rank,
// implementation and the number of spectral parameters.
//
// --model sfno trains an SFNO on an N x 2N latitude-longitude grid (N = --grid; the
// equiangular grid by default) with n_modes (M, 2M) (M = --modes: degrees l < M, the
// triangular truncation); the JSON line names the sht_grid, nlat and nlon.
//
// --model gino trains a 3D GINO on --batch synthetic cars of about --points vertices
// each (bench_gino.h) with a G^3 latent grid (G = --grid, a power of two for half on
// CUDA), modes M^3, GNO radius --radius (default 1.75 grid spacings); the JSON line adds
// the per-geometry inference time with and without the neighbour search.
#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/losses.h>
#include <mpno/surrogate/sfno.h>

#include "bench_gino.h"
#include "bench_options.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace
{
  struct Config
  {
    int64_t     grid = 64, hidden = 64, modes = 16, layers = 4, batch = 8, in_channels = 1;
    int64_t     steps = 10, warmup = 2, threads = 1, points = 3000;
    double      radius         = 0.;
    std::string precisions     = "full,mixed";
    std::string autocast       = "preset";
    std::string stabilizer     = "preset";
    std::string device         = "cpu";
    std::string model          = "fno";
    std::string factorization  = "tucker";
    double      rank           = 0.05;
    std::string implementation = "factorized";
    std::string sht_grid       = "equiangular";
  };

  Config
  parse(int argc, char **argv)
  {
    Config                                         c;
    const std::map<std::string, int64_t Config::*> integers = {{"--grid", &Config::grid},
                                                               {"--hidden", &Config::hidden},
                                                               {"--modes", &Config::modes},
                                                               {"--layers", &Config::layers},
                                                               {"--batch", &Config::batch},
                                                               {"--in-channels", &Config::in_channels},
                                                               {"--steps", &Config::steps},
                                                               {"--warmup", &Config::warmup},
                                                               {"--threads", &Config::threads},
                                                               {"--points", &Config::points}};
    for (int i = 1; i < argc; ++i)
      {
        const std::string key = argv[i];
        if (key == "--help" || key == "-h")
          {
            std::cout << "usage: bench_training [--grid N] [--precision full,mixed,half] [--hidden C] [--modes M]\n"
                         "                      [--layers L] [--batch B] [--in-channels C] [--steps S] [--warmup W]\n"
                         "                      [--threads T] [--autocast on|off] [--stabilizer none|tanh]\n"
                         "                      [--device cpu|cuda] [--model fno|tfno|sfno|gino]\n"
                         "                      [--factorization tucker|cp|tt] [--rank R]\n"
                         "                      [--implementation factorized|reconstructed]\n"
                         "                      [--sht-grid equiangular|legendre-gauss] (sfno)\n"
                         "                      [--points N] [--radius R] (gino)\n";
            std::exit(0);
          }
        if (i + 1 >= argc)
          throw std::invalid_argument("missing value after " + key);
        const std::string value = argv[++i];
        if (const auto found = integers.find(key); found != integers.end())
          {
            c.*(found->second) = bench::parse_integer(key, value, key == "--warmup" ? 0 : 1);
          }
        else if (key == "--precision")
          c.precisions = value;
        else if (key == "--autocast")
          c.autocast = value;
        else if (key == "--stabilizer")
          c.stabilizer = value;
        else if (key == "--device")
          c.device = bench::parse_device(value);
        else if (key == "--model")
          {
            if (value != "fno" && value != "tfno" && value != "sfno" && value != "gino")
              throw std::invalid_argument("--model must be fno, tfno, sfno or gino, got '" + value + "'");
            c.model = value;
          }
        else if (key == "--factorization")
          c.factorization = value;
        else if (key == "--implementation")
          c.implementation = value;
        else if (key == "--sht-grid")
          {
            mpno::parse_sphere_grid(value); // names a bad value
            c.sht_grid = value;
          }
        else if (key == "--radius")
          {
            const auto radius = mpno::io::parse_double(value);
            if (!radius || !(*radius > 0))
              throw std::invalid_argument("--radius expects a number > 0, got '" + value + "'");
            c.radius = *radius;
          }
        else if (key == "--rank")
          {
            const auto rank = mpno::io::parse_double(value);
            if (!rank || !(*rank > 0))
              throw std::invalid_argument("--rank expects a number > 0, got '" + value + "'");
            c.rank = *rank;
          }
        else
          throw std::invalid_argument("unknown option " + key + " (see --help)");
      }
    return c;
  }

  mpno::PrecisionPolicy
  preset(const std::string &name, const Config &c)
  {
    mpno::PrecisionPolicy p;
    p.spectral_precision = mpno::parse_spectral_precision(name);
    const bool reduced   = p.spectral_precision != mpno::SpectralPrecision::full;
    p.stabilizer         = c.stabilizer == "preset" ? (reduced ? mpno::Stabilizer::tanh : mpno::Stabilizer::none) :
                                                      mpno::parse_stabilizer(c.stabilizer);
    p.autocast =
      c.autocast == "preset" ?
        reduced && mpno::native_reduced_products(torch::Device(c.device), p.reduced_dtype(torch::Device(c.device))) :
        c.autocast == "on";
    return p;
  }

  void
  run(const std::string &precision_name, const Config &c)
  {
    torch::set_num_threads(static_cast<int>(c.threads));
    torch::manual_seed(0);
    const auto          precision = preset(precision_name, c);
    const torch::Device device(c.device == "cuda" ? torch::kCUDA : torch::kCPU);
    if (c.model == "gino")
      {
        precision.check_supported(device, {c.grid, c.grid, c.grid});
        bench::GINOBenchConfig g;
        g.grid = c.grid, g.points = c.points, g.batch = c.batch, g.hidden = c.hidden, g.modes = c.modes;
        g.layers = c.layers, g.steps = c.steps, g.warmup = c.warmup, g.radius = c.radius, g.device = device;
        const std::string fields = bench::run_gino_benchmark(g, precision);
        rusage            usage{};
        getrusage(RUSAGE_SELF, &usage);
        std::cout << "{\"benchmark\": \"bench_training\", \"model\": \"gino\", " << fields << ", \"device\": \""
                  << device.str() << "\", \"precision\": \"" << precision_name << "\", \"policy\": \""
                  << precision.describe(device) << "\", \"hidden\": " << c.hidden << ", \"modes\": " << c.modes
                  << ", \"layers\": " << c.layers << ", \"batch\": " << c.batch << ", \"threads\": " << c.threads
                  << ", \"steps\": " << c.steps << ", \"peak_rss_mb\": " << static_cast<double>(usage.ru_maxrss) / 1024.
                  << ", \"peak_memory\": \"host RSS\"}" << std::endl;
        return;
      }
    const bool sphere = c.model == "sfno";
    // The SFNO's grid: nlat = N, nlon = 2N; only the longitude axis is Fourier transformed.
    const int64_t nlat = c.grid, nlon = sphere ? 2 * c.grid : c.grid;
    precision.check_supported(device, sphere ? std::vector<int64_t>{nlon} : std::vector<int64_t>{nlat, nlon});

    std::shared_ptr<mpno::NeuralOperator> model;
    int64_t                               spectral_parameters = 0;
    std::ostringstream                    model_json;
    if (sphere)
      {
        mpno::SFNOOptions options;
        options.n_modes         = {c.modes, 2 * c.modes};
        options.in_channels     = c.in_channels;
        options.out_channels    = 1;
        options.hidden_channels = c.hidden;
        options.n_layers        = c.layers;
        options.grid            = c.sht_grid;
        auto sfno               = std::make_shared<mpno::SFNOImpl>(options, precision);
        spectral_parameters     = sfno->n_spectral_parameters();
        model                   = sfno;
        model_json << "\"sht_grid\": \"" << options.grid << "\", \"nlat\": " << nlat << ", \"nlon\": " << nlon;
      }
    else
      {
        mpno::FNOOptions options;
        options.n_modes         = {c.modes, c.modes};
        options.in_channels     = c.in_channels;
        options.out_channels    = 1;
        options.hidden_channels = c.hidden;
        options.n_layers        = c.layers;
        if (c.model == "tfno")
          {
            options.factorization  = c.factorization;
            options.rank           = c.rank;
            options.implementation = c.implementation;
          }
        options.validate(); // names a bad --factorization or --implementation
        auto fno            = std::make_shared<mpno::FNOImpl>(options, precision);
        spectral_parameters = fno->n_spectral_parameters();
        model               = fno;
        model_json << "\"factorization\": \"" << options.factorization << "\", \"rank\": " << options.rank
                   << ", \"implementation\": \"" << options.implementation << "\"";
      }
    model->to(device);
    torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(1e-4));
    const mpno::H1Loss  loss(2);

    const auto x    = torch::randn({c.batch, c.in_channels, nlat, nlon}).to(device);
    const auto y    = torch::randn({c.batch, 1, nlat, nlon}).to(device);
    const auto sync = [&] {
      if (device.is_cuda())
        torch::cuda::synchronize();
    };
    auto step = [&] {
      optimizer.zero_grad();
      auto l = loss(model->forward(x), y);
      l.backward();
      optimizer.step();
    };
    for (int64_t s = 0; s < c.warmup; ++s)
      step();
    sync();
    const auto start = std::chrono::steady_clock::now();
    for (int64_t s = 0; s < c.steps; ++s)
      step();
    sync();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::ostringstream json;
    json << "{\"benchmark\": \"bench_training\", \"model\": \"" << model->model_name() << "\", " << model_json.str()
         << ", \"spectral_parameters\": " << spectral_parameters << ", \"grid\": " << c.grid << ", \"device\": \""
         << device.str() << "\", \"precision\": \"" << precision_name << "\", \"policy\": \""
         << precision.describe(device) << "\", \"hidden\": " << c.hidden << ", \"modes\": " << c.modes
         << ", \"layers\": " << c.layers << ", \"batch\": " << c.batch << ", \"in_channels\": " << c.in_channels
         << ", \"threads\": " << c.threads << ", \"steps\": " << c.steps
         << ", \"seconds_per_step\": " << seconds / static_cast<double>(c.steps)
         << ", \"samples_per_second\": " << static_cast<double>(c.steps * c.batch) / seconds
         << ", \"peak_rss_mb\": " << static_cast<double>(usage.ru_maxrss) / 1024. << ", \"peak_memory\": \"host RSS\"}";
    std::cout << json.str() << std::endl;
  }
} // namespace

int
main(int argc, char **argv)
{
  try
    {
      const Config       c = parse(argc, argv);
      std::istringstream list(c.precisions);
      std::string        name;
      int                status_all = 0;
      while (std::getline(list, name, ','))
        {
          std::fflush(stdout);
          const pid_t child = fork();
          if (child == 0)
            {
              try
                {
                  run(name, c);
                  _exit(0);
                }
              catch (const std::exception &error)
                {
                  std::cerr << "bench_training (" << name << "): " << error.what() << std::endl;
                  _exit(1);
                }
            }
          int status = 0;
          waitpid(child, &status, 0);
          status_all |= (WIFEXITED(status) ? WEXITSTATUS(status) : 1);
        }
      return status_all;
    }
  catch (const std::exception &error)
    {
      std::cerr << "bench_training: " << error.what() << std::endl;
      return 1;
    }
}
