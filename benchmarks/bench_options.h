#pragma once
// Command-line values shared by the benchmark programs: whole-string integers with a
// lower bound and the --device choice, each refused with a message naming the option.

#include <mpno/surrogate/io_utils.h>

#include <torch/cuda.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace bench
{
  /** @p value of option @p key as an integer >= @p minimum; @throws std::invalid_argument. */
  inline int64_t
  parse_integer(const std::string &key, const std::string &value, const int64_t minimum)
  {
    const auto result = mpno::io::parse_integer(value);
    if (!result || *result < minimum)
      throw std::invalid_argument(key + " expects an integer >= " + std::to_string(minimum) + ", got '" + value + "'");
    return *result;
  }

  /** "cpu" or "cuda" (when LibTorch sees CUDA); @throws std::invalid_argument. */
  inline std::string
  parse_device(const std::string &value)
  {
    if (value != "cpu" && value != "cuda")
      throw std::invalid_argument("--device must be cpu or cuda, got '" + value + "'");
    if (value == "cuda" && !torch::cuda::is_available())
      throw std::invalid_argument("--device cuda: CUDA is not available to LibTorch");
    return value;
  }
} // namespace bench
