#include <mpno/surrogate/io_utils.h>

#include "summary.h"

#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <sys/resource.h>

namespace mpno
{
  namespace plugin
  {
    double
    peak_rss_mb()
    {
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      return static_cast<double>(usage.ru_maxrss) / 1024.; // ru_maxrss is in KiB on Linux
    }

    namespace
    {
      std::string
      json_string(const std::string &text)
      {
        std::ostringstream out;
        out << '"';
        for (const char c : text)
          switch (c)
            {
              case '"':
                out << "\\\"";
                break;
              case '\\':
                out << "\\\\";
                break;
              case '\n':
                out << "\\n";
                break;
              case '\t':
                out << "\\t";
                break;
              default:
                if (static_cast<unsigned char>(c) < 0x20)
                  out << "\\u" << std::hex << std::setw(4) << std::setfill('0') << static_cast<int>(c) << std::dec;
                else
                  out << c;
            }
        out << '"';
        return out.str();
      }

      std::string
      json_number(double value)
      {
        if (!std::isfinite(value))
          return "null";
        std::ostringstream out;
        out << std::setprecision(std::numeric_limits<double>::max_digits10) << value;
        return out.str();
      }
    } // namespace

    std::string
    to_json(const RunSummary &s)
    {
      std::ostringstream out;
      out << "{\n"
          << "  \"command\": " << json_string(s.command) << ",\n"
          << "  \"device\": " << json_string(s.device) << ",\n"
          << "  \"model\": " << json_string(s.model) << ",\n"
          << "  \"n_parameters\": " << s.n_parameters << ",\n"
          << "  \"precision\": " << json_string(s.precision) << ",\n"
          << "  \"precision_policy\": " << json_string(s.precision_policy) << ",\n"
          << "  \"epochs\": " << s.epochs << ",\n"
          << "  \"skipped_steps\": " << s.skipped_steps << ",\n"
          << "  \"train_loss\": " << json_number(s.train_loss) << ",\n"
          << "  \"test_errors\": {";
      bool first = true;
      for (const auto &[name, errors] : s.test_errors)
        {
          out << (first ? "\n" : ",\n") << "    " << json_string(name) << ": {\"l2\": " << json_number(errors.first)
              << ", \"h1\": " << json_number(errors.second) << "}";
          first = false;
        }
      out << (first ? "" : "\n  ") << "},\n"
          << "  \"samples_per_second\": " << json_number(s.samples_per_second) << ",\n"
          << "  \"training_seconds\": " << json_number(s.training_seconds) << ",\n"
          << "  \"seconds\": " << json_number(s.seconds) << ",\n"
          << "  \"peak_rss_mb\": " << json_number(s.peak_rss_mb) << ",\n"
          << "  \"threads\": " << s.threads << ",\n"
          << "  \"parameter_file\": " << json_string(s.parameter_file) << "\n"
          << "}\n";
      return out.str();
    }

    void
    write_summary(const RunSummary &summary, const std::filesystem::path &file)
    {
      io::write_file_atomically(file, to_json(summary));
    }
  } // namespace plugin
} // namespace mpno
