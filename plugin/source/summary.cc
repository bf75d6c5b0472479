// Boost 1.74's property_tree includes the deprecated global bind placeholders.
#define BOOST_BIND_GLOBAL_PLACEHOLDERS
#include <mpno/surrogate/io_utils.h>

#include "summary.h"

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

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
          << "  \"n_spectral_parameters\": " << s.n_spectral_parameters << ",\n"
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
          << "  \"parameter_file\": " << json_string(s.parameter_file);
      if (s.generation)
        {
          const GenerationSummary &g = *s.generation;
          out << ",\n  \"generation\": {\"problem\": " << json_string(g.problem) << ", \"n_dofs\": " << g.n_dofs
              << ", \"training_instances\": " << g.training_instances << ", \"test_instances\": " << g.test_instances
              << ", \"mean_iterations\": " << json_number(g.mean_iterations)
              << ", \"seconds\": " << json_number(g.seconds) << "}";
        }
      if (s.hybrid)
        {
          const HybridSummary &h = *s.hybrid;
          out << ",\n  \"hybrid\": {\n"
              << "    \"strategy\": " << json_string(h.strategy) << ",\n"
              << "    \"iterations_unit\": " << json_string(h.iterations_unit) << ",\n"
              << "    \"instances\": " << h.instances << ",\n"
              << "    \"n_dofs\": " << h.n_dofs << ",\n"
              << "    \"iterations_zero_guess\": " << h.iterations_zero_guess << ",\n"
              << "    \"iterations_surrogate\": " << h.iterations_surrogate << ",\n"
              << "    \"max_final_relative_residual\": " << json_number(h.max_final_relative_residual) << ",\n"
              << "    \"seconds_zero_guess\": " << json_number(h.seconds_zero_guess) << ",\n"
              << "    \"seconds_surrogate\": " << json_number(h.seconds_surrogate) << ",\n"
              << "    \"inference_seconds\": " << json_number(h.inference_seconds) << ",\n"
              << "    \"transfer_seconds\": " << json_number(h.transfer_seconds) << ",\n"
              << "    \"assembly_seconds\": " << json_number(h.assembly_seconds) << ",\n"
              << "    \"mean_surrogate_relative_error\": " << json_number(h.mean_surrogate_relative_error) << ",\n"
              << "    \"max_surrogate_relative_error\": " << json_number(h.max_surrogate_relative_error) << ",\n"
              << "    \"mean_prediction_relative_residual\": " << json_number(h.mean_prediction_relative_residual)
              << ",\n"
              << "    \"mean_smooth_error_residual\": " << json_number(h.mean_smooth_error_residual) << ",\n"
              << "    \"mean_rough_error_residual\": " << json_number(h.mean_rough_error_residual) << ",\n"
              << "    \"fallbacks\": " << h.fallbacks << ",\n"
              << "    \"certified\": " << h.certified << ",\n"
              << "    \"max_error_bound\": " << json_number(h.max_error_bound) << ",\n"
              << "    \"max_certified_energy_error\": " << json_number(h.max_certified_energy_error) << "\n  }";
        }
      out << "\n}\n";
      return out.str();
    }

    namespace
    {
      double
      number(const boost::property_tree::ptree &tree, const std::string &path)
      {
        const auto value = tree.get_optional<std::string>(path);
        if (!value || *value == "null")
          return std::nan("");
        return std::stod(*value);
      }
    } // namespace

    std::optional<RunSummary>
    read_summary(const std::filesystem::path &file, const bool with_hybrid)
    {
      if (!std::filesystem::is_regular_file(file))
        return std::nullopt;
      try
        {
          boost::property_tree::ptree tree;
          boost::property_tree::read_json(file.string(), tree);
          RunSummary s;
          s.command               = tree.get<std::string>("command", "");
          s.device                = tree.get<std::string>("device", "");
          s.model                 = tree.get<std::string>("model", "");
          s.n_parameters          = tree.get<long long>("n_parameters", 0);
          s.n_spectral_parameters = tree.get<long long>("n_spectral_parameters", 0);
          s.precision             = tree.get<std::string>("precision", "");
          s.precision_policy      = tree.get<std::string>("precision_policy", "");
          s.epochs                = tree.get<long long>("epochs", 0);
          s.skipped_steps         = tree.get<long long>("skipped_steps", 0);
          s.train_loss            = number(tree, "train_loss");
          if (const auto errors = tree.get_child_optional("test_errors"))
            for (const auto &[name, e] : *errors)
              s.test_errors[name] = {number(e, "l2"), number(e, "h1")};
          s.samples_per_second = number(tree, "samples_per_second");
          s.training_seconds   = number(tree, "training_seconds");
          s.seconds            = number(tree, "seconds");
          s.peak_rss_mb        = number(tree, "peak_rss_mb");
          s.threads            = tree.get<int>("threads", 1);
          s.parameter_file     = tree.get<std::string>("parameter_file", "");
          if (const auto g = tree.get_child_optional("generation"))
            s.generation = GenerationSummary{g->get<std::string>("problem", ""),
                                             g->get<long long>("n_dofs", 0),
                                             g->get<long long>("training_instances", 0),
                                             g->get<long long>("test_instances", 0),
                                             number(*g, "mean_iterations"),
                                             number(*g, "seconds")};
          if (const auto h = tree.get_child_optional("hybrid"); h && with_hybrid)
            {
              HybridSummary &y                    = s.hybrid.emplace();
              y.strategy                          = h->get<std::string>("strategy", "");
              y.iterations_unit                   = h->get<std::string>("iterations_unit", "CG iterations");
              y.instances                         = h->get<long long>("instances", 0);
              y.n_dofs                            = h->get<long long>("n_dofs", 0);
              y.iterations_zero_guess             = h->get<long long>("iterations_zero_guess", 0);
              y.iterations_surrogate              = h->get<long long>("iterations_surrogate", 0);
              y.max_final_relative_residual       = number(*h, "max_final_relative_residual");
              y.seconds_zero_guess                = number(*h, "seconds_zero_guess");
              y.seconds_surrogate                 = number(*h, "seconds_surrogate");
              y.inference_seconds                 = number(*h, "inference_seconds");
              y.transfer_seconds                  = number(*h, "transfer_seconds");
              y.assembly_seconds                  = number(*h, "assembly_seconds");
              y.mean_surrogate_relative_error     = number(*h, "mean_surrogate_relative_error");
              y.max_surrogate_relative_error      = number(*h, "max_surrogate_relative_error");
              y.mean_prediction_relative_residual = number(*h, "mean_prediction_relative_residual");
              y.mean_smooth_error_residual        = number(*h, "mean_smooth_error_residual");
              y.mean_rough_error_residual         = number(*h, "mean_rough_error_residual");
              y.fallbacks                         = h->get<long long>("fallbacks", 0);
              y.certified                         = h->get<long long>("certified", 0);
              y.max_error_bound                   = number(*h, "max_error_bound");
              y.max_certified_energy_error        = number(*h, "max_certified_energy_error");
            }
          return s;
        }
      catch (const std::exception &)
        {
          return std::nullopt;
        }
    }

    void
    write_summary(const RunSummary &summary, const std::filesystem::path &file)
    {
      io::write_file_atomically(file, to_json(summary));
    }

    void
    record_solve(const std::filesystem::path &directory,
                 const HybridSummary         &hybrid,
                 const std::filesystem::path &parameter_file,
                 const double                 seconds)
    {
      RunSummary summary     = read_summary(directory / "summary.json").value_or(RunSummary());
      summary.command        = "solve";
      summary.hybrid         = hybrid;
      summary.parameter_file = std::filesystem::absolute(parameter_file).lexically_normal().string();
      summary.seconds        = seconds;
      summary.peak_rss_mb    = std::max(summary.peak_rss_mb, peak_rss_mb());
      write_summary(summary, directory / "summary.json");
    }
  } // namespace plugin
} // namespace mpno
