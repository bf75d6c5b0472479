#include <mpno/surrogate/precision.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mpno
{
  SpectralPrecision
  parse_spectral_precision(const std::string &name)
  {
    if (name == "full")
      return SpectralPrecision::full;
    if (name == "mixed")
      return SpectralPrecision::mixed;
    if (name == "half")
      return SpectralPrecision::half;
    throw std::invalid_argument("Spectral precision: expected full, mixed or half, got '" + name + "'");
  }

  ReducedType
  parse_reduced_type(const std::string &name)
  {
    if (name == "auto")
      return ReducedType::automatic;
    if (name == "float16")
      return ReducedType::float16;
    if (name == "bfloat16")
      return ReducedType::bfloat16;
    throw std::invalid_argument("Reduced type: expected auto, float16 or bfloat16, got '" + name + "'");
  }

  Stabilizer
  parse_stabilizer(const std::string &name)
  {
    if (name == "none")
      return Stabilizer::none;
    if (name == "tanh")
      return Stabilizer::tanh;
    throw std::invalid_argument("Stabilizer: expected none or tanh, got '" + name + "'");
  }

  std::string
  to_string(const SpectralPrecision precision)
  {
    switch (precision)
      {
        case SpectralPrecision::full:
          return "full";
        case SpectralPrecision::mixed:
          return "mixed";
        case SpectralPrecision::half:
          return "half";
      }
    return "full";
  }

  std::string
  to_string(const ReducedType type)
  {
    switch (type)
      {
        case ReducedType::automatic:
          return "auto";
        case ReducedType::float16:
          return "float16";
        case ReducedType::bfloat16:
          return "bfloat16";
      }
    return "auto";
  }

  std::string
  to_string(const Stabilizer stabilizer)
  {
    return stabilizer == Stabilizer::tanh ? "tanh" : "none";
  }

  torch::Dtype
  PrecisionPolicy::reduced_dtype(const torch::Device &device) const
  {
    switch (reduced_type)
      {
        case ReducedType::float16:
          return torch::kHalf;
        case ReducedType::bfloat16:
          return torch::kBFloat16;
        case ReducedType::automatic:
          break;
      }
    return device.is_cuda() ? torch::kHalf : torch::kBFloat16;
  }

  bool
  native_reduced_products(const torch::Device &device, const torch::Dtype type)
  {
    if (type == torch::kFloat)
      return true;
    if (device.is_cuda())
      return type == torch::kHalf || type == torch::kBFloat16;
    if (type != torch::kBFloat16)
      return false;
    // The CPU's flags, read once: "avx512_bf16" (AVX512-BF16) or "amx_bf16" (AMX).
    static const bool has_bf16 = [] {
      std::ifstream cpuinfo("/proc/cpuinfo");
      std::string   line;
      while (std::getline(cpuinfo, line))
        if (line.rfind("flags", 0) == 0)
          return line.find(" avx512_bf16") != std::string::npos || line.find(" amx_bf16") != std::string::npos;
      return false;
    }();
    return has_bf16;
  }

  torch::Tensor
  gemm_operand(const torch::Tensor &x, const torch::Dtype type)
  {
    if (native_reduced_products(x.device(), type))
      return x.to(type);
    return x.to(type).to(torch::kFloat);
  }

  torch::Dtype
  PrecisionPolicy::activation_dtype(const torch::Device &device) const
  {
    return autocast ? reduced_dtype(device) : torch::kFloat;
  }

  bool
  PrecisionPolicy::emulates_half_fft(const torch::Device &device) const
  {
    return spectral_precision == SpectralPrecision::half && !device.is_cuda();
  }

  void
  PrecisionPolicy::check_supported(const torch::Device &device, const std::vector<int64_t> &grid_shape) const
  {
    if (!device.is_cuda())
      {
        // CPU matrix products in float16 do not exist in LibTorch 1.13 ("addmm_impl_cpu_
        // not implemented for 'Half'"): only bfloat16 GEMMs (oneDNN) can run the contraction.
        if (spectral_precision != SpectralPrecision::full && reduced_dtype(device) == torch::kHalf)
          throw UnsupportedPrecision("Spectral precision '" + to_string(spectral_precision) +
                                     "' with Reduced type float16 cannot run on CPU: LibTorch has no float16 matrix "
                                     "product on CPU. Use Reduced type = auto or bfloat16.");
        if (autocast && reduced_dtype(device) == torch::kHalf)
          throw UnsupportedPrecision("Autocast with Reduced type float16 cannot run on CPU: LibTorch has no float16 "
                                     "matrix product on CPU. Use Reduced type = auto or bfloat16.");
        return;
      }
    if (spectral_precision == SpectralPrecision::full)
      return;
    if (reduced_dtype(device) != torch::kHalf)
      {
        if (spectral_precision == SpectralPrecision::half)
          throw UnsupportedPrecision("Spectral precision 'half' on CUDA needs Reduced type float16 "
                                     "(or auto): cuFFT has no bfloat16 transform.");
        return; // mixed with bfloat16: float32 FFTs, the inverse's output rounded
      }
    for (const int64_t n : grid_shape)
      if (n <= 0 || (n & (n - 1)) != 0)
        {
          std::ostringstream shape;
          for (std::size_t i = 0; i < grid_shape.size(); ++i)
            shape << (i ? " x " : "") << grid_shape[i];
          throw UnsupportedPrecision(
            "Spectral precision '" + to_string(spectral_precision) +
            "' on CUDA: cuFFT computes float16 transforms only for power-of-two sizes, but the grid "
            "(including domain padding) is " +
            shape.str() + ". Use a power-of-two grid, no domain padding, or Spectral precision = full.");
        }
  }

  std::string
  PrecisionPolicy::describe(const torch::Device &device) const
  {
    const std::string reduced = reduced_dtype(device) == torch::kHalf ? "float16" : "bfloat16";
    // Without native reduced products the contraction runs as float32 GEMMs on rounded
    // operands (gemm_operand()).
    const std::string contraction_note =
      native_reduced_products(device, reduced_dtype(device)) ?
        std::string() :
        " [" + reduced + " operands, float32 GEMM: no native " + reduced + " products here]";
    std::ostringstream out;
    out << "spectral " << to_string(spectral_precision);
    switch (spectral_precision)
      {
        case SpectralPrecision::full:
          out << " (float32 FFT and complex64 contraction)";
          break;
        case SpectralPrecision::mixed:
          out << " (float32 FFT, " << reduced << " contraction" << contraction_note
              << (device.is_cuda() && reduced == "float16" ?
                    " and inverse FFT)" :
                    ", float32 inverse FFT with its output rounded to " + reduced + ")");
          break;
        case SpectralPrecision::half:
          if (emulates_half_fft(device))
            out << " (EMULATED on CPU: float32 FFTs with input and output rounded to " << reduced << ", " << reduced
                << " contraction" << contraction_note << "; for precision studies, not for speed)";
          else
            out << " (" << reduced << " cuFFT and contraction)";
          break;
      }
    out << ", stabilizer " << to_string(stabilizer) << ", autocast " << (autocast ? reduced : std::string("off"));
    return out.str();
  }

  PrecisionPolicy
  PrecisionPolicy::raised() const
  {
    PrecisionPolicy higher = *this;
    if (spectral_precision == SpectralPrecision::half)
      higher.spectral_precision = SpectralPrecision::mixed;
    else if (spectral_precision == SpectralPrecision::mixed)
      higher.spectral_precision = SpectralPrecision::full;
    else
      higher.autocast = false;
    return higher;
  }
} // namespace mpno
