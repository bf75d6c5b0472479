// The error-bound study of Tu et al. (ICLR 2024, Sec. 3; method.md Sec. 6.4), checked
// numerically: for a smooth, a Lipschitz and a step (thresholded) periodic function,
// in 1D and 2D, on N = 16, 32, ..., max-n points per dimension,
//
//   bench_error_bounds [--dims 1,2] [--max-n 1024] [--modes 8] [--csv FILE]
//                      [--threads 1] [--device cpu|cuda]
//
// prints per row (dimension, function, stage, N):
// - stage "fft": the discretisation error max_{|k_j| <= K} |F(v)(k) - F_N(v)(k)| of the
//   truncated transform (F exact from the analytic coefficients, F_N = rfftn(norm=
//   "forward") in float64) and the precision error |F_N(v)(k) - F~_N(v)(k)| with the
//   FFT's input and output in float16 and in bfloat16 (EMULATED: rounded input, float32
//   FFT, rounded output, as mpno's `half` on CPU; real cuFFT float16 on --device cuda);
// - stages "layer-mixed", "layer-half": one SpectralConv (1 -> 4 channels, n_modes K,
//   seed 0, no stabilizer): discretisation error max_x |layer_N(v) - layer(v)| at the grid
//   points, both in float64, layer(v) from the exact coefficients; precision error
//   max_x |layer_N^full(v) - layer_N^reduced(v)| with mpno's PrecisionPolicy mixed or half
//   in float16 or bfloat16 ("n/a" where mpno cannot run it, e.g. float16 on CPU);
// - the scale S (max|v| for "fft", max|layer_N(v)| for the layer) and u S, with u the
//   unit roundoff (float16 2^-11, bfloat16 2^-8), the theory's size of the precision error.
// Then, per function, stage and type, the first N where the precision error reaches the
// discretisation error (the crossing), or "none up to max-n".
#include <mpno/surrogate/error_bounds.h>
#include <mpno/surrogate/io_utils.h>

#include "bench_options.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{
  namespace eb = mpno::error_bounds;

  struct Config
  {
    std::vector<int64_t> dims  = {1, 2};
    int64_t              max_n = 1024, modes = 8, threads = 1;
    std::string          csv, device = "cpu";
  };

  Config
  parse(int argc, char **argv)
  {
    Config c;
    for (int i = 1; i < argc; ++i)
      {
        const std::string key = argv[i];
        if (key == "--help" || key == "-h")
          {
            std::cout << "usage: bench_error_bounds [--dims 1,2] [--max-n 1024] [--modes 8] [--csv FILE]\n"
                         "                          [--threads 1] [--device cpu|cuda]\n";
            std::exit(0);
          }
        if (i + 1 >= argc)
          throw std::invalid_argument("missing value after " + key);
        const std::string value = argv[++i];
        if (key == "--dims")
          {
            c.dims.clear();
            std::istringstream list(value);
            std::string        item;
            while (std::getline(list, item, ','))
              {
                const int64_t dim = bench::parse_integer(key, item, 1);
                if (dim > 2)
                  throw std::invalid_argument("--dims takes 1 and/or 2, got '" + value + "'");
                c.dims.push_back(dim);
              }
          }
        else if (key == "--max-n")
          c.max_n = bench::parse_integer(key, value, 16);
        else if (key == "--modes")
          c.modes = bench::parse_integer(key, value, 1);
        else if (key == "--threads")
          c.threads = bench::parse_integer(key, value, 1);
        else if (key == "--csv")
          c.csv = value;
        else if (key == "--device")
          c.device = bench::parse_device(value);
        else
          throw std::invalid_argument("unknown option " + key + " (see --help)");
      }
    return c;
  }

  struct Row
  {
    int64_t     dim, n;
    std::string function, stage;
    double      discretisation, float16, bfloat16, scale;
  };

  std::string
  format(const double x)
  {
    if (std::isnan(x))
      return "n/a";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3e", x);
    return buffer;
  }

  /** The precision error of @p conv's layer with @p stage in @p type; NaN where mpno
   *  cannot run that precision on the device. */
  double
  layer_precision(mpno::SpectralConvImpl       &conv,
                  mpno::PrecisionPolicy        &policy,
                  const mpno::SpectralPrecision stage,
                  const mpno::ReducedType       type,
                  const eb::TestFunction       &v,
                  const int64_t                 n,
                  const torch::Device          &device)
  {
    mpno::PrecisionPolicy reduced;
    reduced.spectral_precision = stage;
    reduced.reduced_type       = type;
    try
      {
        return eb::layer_precision_error(conv, policy, reduced, v, n, device);
      }
    catch (const mpno::UnsupportedPrecision &)
      {
        return std::numeric_limits<double>::quiet_NaN();
      }
  }
} // namespace

int
main(int argc, char **argv)
{
  try
    {
      const Config c = parse(argc, argv);
      torch::set_num_threads(static_cast<int>(c.threads));
      const torch::Device  device(c.device == "cuda" ? torch::kCUDA : torch::kCPU);
      std::vector<int64_t> grids;
      for (int64_t n = 16; n <= c.max_n; n *= 2)
        if (n >= 2 * c.modes)
          grids.push_back(n);
      if (grids.empty())
        throw std::invalid_argument("no N in 16, 32, ..., --max-n with N >= 2 * --modes");

      const bool cuda_half = device.is_cuda();
      std::cout << "# bench_error_bounds: dims";
      for (const int64_t d : c.dims)
        std::cout << ' ' << d;
      std::cout << ", N = " << grids.front() << " .. " << grids.back() << ", modes K = " << c.modes
                << " (FFT: |k_j| <= K; layer: SpectralConv n_modes K, 1 -> 4 channels, seed 0), device " << device.str()
                << ", threads " << c.threads << "\n"
                << "# reduced FFT: float16 "
                << (cuda_half ? "cuFFT float16" : "EMULATED (float32 FFT, input and output rounded)")
                << ", bfloat16 EMULATED (float32 FFT, input and output rounded)\n";
      mpno::PrecisionPolicy describe_half;
      describe_half.spectral_precision = mpno::SpectralPrecision::half;
      mpno::PrecisionPolicy describe_mixed;
      describe_mixed.spectral_precision = mpno::SpectralPrecision::mixed;
      std::cout << "# layer-half:  " << describe_half.describe(device) << "\n"
                << "# layer-mixed: " << describe_mixed.describe(device) << "\n"
                << "# S = max|v| (fft) or max|layer_N(v)| (layer); u = unit roundoff, float16 2^-11, bfloat16 2^-8\n";

      const auto                          start     = std::chrono::steady_clock::now();
      const std::vector<eb::TestFunction> functions = {eb::smooth_function(),
                                                       eb::lipschitz_function(),
                                                       eb::step_function()};
      std::vector<Row>                    rows;
      for (const int64_t dim : c.dims)
        {
          torch::manual_seed(0);
          auto               policy = std::make_shared<mpno::PrecisionPolicy>();
          mpno::SpectralConv conv(mpno::SpectralConvOptions(1, 4, std::vector<int64_t>(dim, c.modes)), policy);
          conv->to(device);
          for (const auto &v : functions)
            for (const int64_t n : grids)
              {
                rows.push_back({dim,
                                n,
                                v.name,
                                "fft",
                                eb::fft_discretisation_error(v, dim, n, c.modes),
                                eb::fft_precision_error(v, dim, n, c.modes, torch::kHalf, device),
                                eb::fft_precision_error(v, dim, n, c.modes, torch::kBFloat16, device),
                                eb::max_abs(v, dim)});
                const double layer_error = eb::layer_discretisation_error(*conv, v, n);
                const double layer_scale =
                  eb::spectral_conv_float64(*conv, eb::kept_coefficients(*conv, v, n, false), n)
                    .abs()
                    .max()
                    .item<double>();
                for (const auto stage : {mpno::SpectralPrecision::mixed, mpno::SpectralPrecision::half})
                  rows.push_back({dim,
                                  n,
                                  v.name,
                                  "layer-" + mpno::to_string(stage),
                                  layer_error,
                                  layer_precision(*conv, *policy, stage, mpno::ReducedType::float16, v, n, device),
                                  layer_precision(*conv, *policy, stage, mpno::ReducedType::bfloat16, v, n, device),
                                  layer_scale});
              }
        }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

      const double u16 = eb::unit_roundoff(torch::kHalf), ubf16 = eb::unit_roundoff(torch::kBFloat16);
      std::printf("%3s %-9s %-11s %5s %10s %10s %10s %10s %10s %10s\n",
                  "dim",
                  "function",
                  "stage",
                  "N",
                  "discr",
                  "prec_fp16",
                  "prec_bf16",
                  "S",
                  "u_fp16*S",
                  "u_bf16*S");
      std::ostringstream csv;
      csv << "dim,function,stage,n,discretisation_error,precision_error_float16,precision_error_bfloat16,scale,"
             "u_float16_scale,u_bfloat16_scale,reduced_fft_float16,reduced_fft_bfloat16\n";
      csv.precision(6);
      csv << std::scientific;
      for (const Row &r : rows)
        {
          std::printf("%3ld %-9s %-11s %5ld %10s %10s %10s %10s %10s %10s\n",
                      static_cast<long>(r.dim),
                      r.function.c_str(),
                      r.stage.c_str(),
                      static_cast<long>(r.n),
                      format(r.discretisation).c_str(),
                      format(r.float16).c_str(),
                      format(r.bfloat16).c_str(),
                      format(r.scale).c_str(),
                      format(u16 * r.scale).c_str(),
                      format(ubf16 * r.scale).c_str());
          csv << r.dim << ',' << r.function << ',' << r.stage << ',' << r.n << ',' << r.discretisation << ','
              << r.float16 << ',' << r.bfloat16 << ',' << r.scale << ',' << u16 * r.scale << ',' << ubf16 * r.scale
              << ',' << (cuda_half ? "cufft" : "emulated") << ",emulated\n";
        }

      // Crossing: the first N where the precision error reaches the discretisation error.
      std::cout << "\n# crossing: first N with precision error >= discretisation error\n";
      std::map<std::string, std::vector<const Row *>> series;
      std::vector<std::string>                        order;
      for (const Row &r : rows)
        {
          const std::string key = std::to_string(r.dim) + "D " + r.function + " " + r.stage;
          if (series.find(key) == series.end())
            order.push_back(key);
          series[key].push_back(&r);
        }
      for (const auto &key : order)
        {
          std::cout << key;
          for (const auto type : {torch::kHalf, torch::kBFloat16})
            {
              std::string crossing = "none up to " + std::to_string(grids.back());
              bool        any      = false;
              for (const Row *r : series[key])
                {
                  const double precision = type == torch::kHalf ? r->float16 : r->bfloat16;
                  if (std::isnan(precision))
                    continue;
                  any = true;
                  if (precision >= r->discretisation)
                    {
                      crossing = "N = " + std::to_string(r->n);
                      break;
                    }
                }
              std::cout << (type == torch::kHalf ? ": float16 " : ", bfloat16 ") << (any ? crossing : "n/a");
            }
          std::cout << "\n";
        }
      std::cout << "# " << rows.size() << " rows in " << seconds << " s\n";
      if (!c.csv.empty())
        {
          mpno::io::write_file_atomically(c.csv, csv.str());
          std::cout << "# wrote " << c.csv << "\n";
        }
      return 0;
    }
  catch (const std::exception &error)
    {
      std::cerr << "bench_error_bounds: " << error.what() << std::endl;
      return 1;
    }
}
