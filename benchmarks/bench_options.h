#pragma once
// Command-line values shared by the benchmark programs: whole-string integers with a
// lower bound, numbers with a condition, comma-separated lists of them and the --device
// choice, each refused with a message naming the option.

#include <mpno/surrogate/io_utils.h>

#include <torch/cuda.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

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

  /** The comma-separated items of @p value, as std::getline splits them. */
  inline std::vector<std::string>
  split_items(const std::string &value)
  {
    std::vector<std::string> items;
    std::stringstream        in(value);
    for (std::string item; std::getline(in, item, ',');)
      items.push_back(item);
    return items;
  }

  /** @p value of option @p key as a list of integers >= @p minimum, at least one;
   *  @throws std::invalid_argument naming the option. */
  inline std::vector<unsigned int>
  parse_integer_list(const std::string &key, const std::string &value, const int64_t minimum)
  {
    std::vector<unsigned int> list;
    for (const std::string &item : split_items(value))
      list.push_back(static_cast<unsigned int>(parse_integer(key, item, minimum)));
    if (list.empty())
      throw std::invalid_argument(key + " expects a list of integers >= " + std::to_string(minimum) + ", got '" +
                                  value + "'");
    return list;
  }

  /** @p text as a whole finite number for which @p valid holds; else
   *  std::invalid_argument "KEY expects EXPECTED, got 'QUOTED'" (@p quoted defaults to
   *  @p text). */
  inline double
  parse_number(const std::string                 &key,
               const std::string                 &text,
               const std::function<bool(double)> &valid,
               const std::string                 &expected,
               const std::string                 &quoted = "")
  {
    const auto result = mpno::io::parse_double(text);
    if (!result || !std::isfinite(*result) || !valid(*result))
      throw std::invalid_argument(key + " expects " + expected + ", got '" + (quoted.empty() ? text : quoted) + "'");
    return *result;
  }

  /** parse_number() for each comma-separated item of @p value, at least one; the message
   *  quotes the whole list. */
  inline std::vector<double>
  parse_number_list(const std::string                 &key,
                    const std::string                 &value,
                    const std::function<bool(double)> &valid,
                    const std::string                 &expected)
  {
    std::vector<double> list;
    for (const std::string &item : split_items(value))
      list.push_back(parse_number(key, item, valid, expected, value));
    if (list.empty())
      throw std::invalid_argument(key + " expects " + expected + ", got '" + value + "'");
    return list;
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
