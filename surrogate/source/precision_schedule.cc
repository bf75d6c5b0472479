#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/precision_schedule.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace mpno
{
  namespace
  {
    /** The shortest decimal text of @p value that reads back exactly. */
    std::string
    shortest(const double value)
    {
      char text[32];
      for (int digits = 1; digits <= 17; ++digits)
        {
          std::snprintf(text, sizeof(text), "%.*g", digits, value);
          if (std::strtod(text, nullptr) == value)
            break;
        }
      return text;
    }
  } // namespace

  std::string
  PrecisionSchedule::problem(const std::vector<Phase> &phases)
  {
    if (phases.empty())
      return "no phase given (expected e.g. '0:half, 0.25:mixed, 0.75:full')";
    for (std::size_t k = 0; k < phases.size(); ++k)
      {
        const double f = phases[k].start;
        if (!(f >= 0. && f < 1.))
          return "the fraction of phase " + std::to_string(k + 1) + " must be in [0, 1), got " + shortest(f);
        if (k > 0 && !(f > phases[k - 1].start))
          return "the fractions must increase strictly, but " + shortest(f) + " follows " +
                 shortest(phases[k - 1].start);
      }
    if (phases.front().start != 0.)
      return "the first phase must start at 0, not at " + shortest(phases.front().start);
    return "";
  }

  PrecisionSchedule::PrecisionSchedule(std::vector<Phase> phases)
    : phases_(std::move(phases))
  {
    if (const std::string why = problem(phases_); !why.empty())
      throw std::invalid_argument("Precision schedule '" + to_string() + "': " + why);
  }

  PrecisionSchedule
  PrecisionSchedule::parse(const std::string &text)
  {
    const auto fail = [&](const std::string &why) {
      throw std::invalid_argument("Precision schedule '" + text + "': " + why);
    };
    std::vector<Phase> phases;
    std::size_t        begin = 0;
    if (io::trim(text).empty())
      fail("no phase given (expected e.g. '0:half, 0.25:mixed, 0.75:full')");
    while (begin <= text.size())
      {
        const std::size_t end   = std::min(text.find(',', begin), text.size());
        const std::string item  = io::trim(text.substr(begin, end - begin));
        const std::size_t colon = item.find(':');
        if (colon == std::string::npos)
          fail("expected FRACTION:PRECISION, got '" + item + "'");
        const std::string fraction = io::trim(item.substr(0, colon));
        const std::string name     = io::trim(item.substr(colon + 1));
        const auto        start    = io::parse_double(fraction);
        if (!start)
          fail("'" + fraction + "' in '" + item + "' is not a number");
        if (name != "half" && name != "mixed" && name != "full")
          fail("expected half, mixed or full after '" + fraction + ":', got '" + name + "'");
        phases.push_back({*start, parse_spectral_precision(name)});
        begin = end + 1;
      }
    if (const std::string why = problem(phases); !why.empty())
      fail(why);
    return PrecisionSchedule(std::move(phases));
  }

  int64_t
  PrecisionSchedule::first_epoch(const std::size_t index, const int64_t epochs) const
  {
    return std::llround(phases_.at(index).start * static_cast<double>(epochs)) + 1;
  }

  std::size_t
  PrecisionSchedule::phase_index(const int64_t epoch, const int64_t epochs) const
  {
    std::size_t index = 0;
    for (std::size_t k = 1; k < phases_.size(); ++k)
      if (epoch >= first_epoch(k, epochs))
        index = k;
    return index;
  }

  PrecisionPolicy
  PrecisionSchedule::phase_policy(const PrecisionPolicy &base, const std::size_t index) const
  {
    PrecisionPolicy policy    = base;
    policy.spectral_precision = phases_.at(index).precision;
    policy.autocast           = base.autocast && policy.spectral_precision != SpectralPrecision::full;
    return policy;
  }

  PrecisionPolicy
  PrecisionSchedule::policy(const PrecisionPolicy &base, const int64_t epoch, const int64_t epochs) const
  {
    return phase_policy(base, phase_index(epoch, epochs));
  }

  std::string
  PrecisionSchedule::to_string() const
  {
    std::string text;
    for (const Phase &phase : phases_)
      text += (text.empty() ? "" : ", ") + shortest(phase.start) + ":" + mpno::to_string(phase.precision);
    return text;
  }

  bool
  PrecisionSchedule::operator==(const PrecisionSchedule &other) const
  {
    if (phases_.size() != other.phases_.size())
      return false;
    for (std::size_t k = 0; k < phases_.size(); ++k)
      if (phases_[k].start != other.phases_[k].start || phases_[k].precision != other.phases_[k].precision)
        return false;
    return true;
  }
} // namespace mpno
