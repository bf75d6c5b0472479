// state.txt of a checkpoint directory (checkpoint_io.h).
#include <mpno/surrogate/io_utils.h>

#include "checkpoint_io.h"

#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace checkpoint_io
  {
    namespace fs = std::filesystem;
    using io::trim;

    namespace
    {
      constexpr const char *config_marker = "[model config]";
    } // namespace

    std::string
    exact(double value)
    {
      std::ostringstream out;
      out << std::setprecision(std::numeric_limits<double>::max_digits10) << value;
      return out.str();
    }

    std::string
    format_state(const CheckpointState &state)
    {
      std::ostringstream out;
      out << "# mpno checkpoint state: counters, precision and options of the run;\n"
          << "# the model is rebuilt from the lines after [model config].\n"
          << "format = 1\n"
          << "model = " << state.model_name << '\n'
          << "precision.spectral_precision = " << to_string(state.precision.spectral_precision) << '\n'
          << "precision.reduced_type = " << to_string(state.precision.reduced_type) << '\n'
          << "precision.stabilizer = " << to_string(state.precision.stabilizer) << '\n'
          << "precision.autocast = " << (state.precision.autocast ? "true" : "false") << '\n';
      for (const auto &[key, value] : state.entries)
        out << key << " = " << value << '\n';
      out << config_marker << '\n' << state.model_config;
      if (!state.model_config.empty() && state.model_config.back() != '\n')
        out << '\n';
      return out.str();
    }

    CheckpointState
    read_state(const fs::path &file)
    {
      std::ifstream in(file);
      if (!in)
        throw std::runtime_error("cannot read '" + file.string() + "'");
      CheckpointState                    state;
      std::map<std::string, std::string> entries;
      std::string                        line;
      int                                number    = 0;
      bool                               in_config = false;
      while (std::getline(in, line))
        {
          ++number;
          if (in_config)
            {
              state.model_config += line + '\n';
              continue;
            }
          const std::string content = trim(line);
          if (content.empty() || content[0] == '#')
            continue;
          if (content == config_marker)
            {
              in_config = true;
              continue;
            }
          const auto equals = content.find('=');
          if (equals == std::string::npos)
            throw std::runtime_error("'" + file.string() + "', line " + std::to_string(number) +
                                     ": expected 'key = value', got '" + content + "'");
          entries[trim(content.substr(0, equals))] = trim(content.substr(equals + 1));
        }
      if (!in_config)
        throw std::runtime_error("'" + file.string() + "' has no " + config_marker + " section");

      state.file      = file;
      state.entries   = entries;
      const auto take = [&](const std::string &key) -> std::string {
        const std::string value = state_entry(state, key);
        state.entries.erase(key);
        return value;
      };
      if (const std::string format = take("format"); format != "1")
        throw std::runtime_error("'" + file.string() + "': unknown format '" + format + "' (this mpno reads format 1)");
      state.model_name = take("model");
      try
        {
          state.precision.spectral_precision = parse_spectral_precision(take("precision.spectral_precision"));
          state.precision.reduced_type       = parse_reduced_type(take("precision.reduced_type"));
          state.precision.stabilizer         = parse_stabilizer(take("precision.stabilizer"));
        }
      catch (const std::invalid_argument &error)
        {
          throw std::runtime_error("'" + file.string() + "': " + error.what());
        }
      state.precision.autocast = state_bool(state, "precision.autocast");
      state.entries.erase("precision.autocast");
      return state;
    }

    const std::string &
    state_entry(const CheckpointState &state, const std::string &key)
    {
      const auto found = state.entries.find(key);
      if (found == state.entries.end())
        throw std::runtime_error("'" + state.file.string() + "' has no entry '" + key + "'");
      return found->second;
    }

    int64_t
    state_integer(const CheckpointState &state, const std::string &key)
    {
      const std::string &text  = state_entry(state, key);
      const auto         value = io::parse_integer(text);
      if (!value)
        throw std::runtime_error("'" + state.file.string() + "': entry '" + key + "' is not an integer: '" + text +
                                 "'");
      return *value;
    }

    bool
    state_bool(const CheckpointState &state, const std::string &key)
    {
      const std::string &text = state_entry(state, key);
      if (text != "true" && text != "false")
        throw std::runtime_error("'" + state.file.string() + "': entry '" + key + "' must be true or false, got '" +
                                 text + "'");
      return text == "true";
    }

    std::string
    format_latent_shape(const std::vector<int64_t> &shape)
    {
      std::string text;
      for (const int64_t n : shape)
        text += (text.empty() ? "" : " ") + std::to_string(n);
      return text;
    }

    std::vector<int64_t>
    state_latent_shape(const CheckpointState &state)
    {
      std::vector<int64_t> shape;
      if (!state.entries.count(latent_shape_key))
        return shape;
      const std::string &text = state_entry(state, latent_shape_key);
      std::istringstream words(text);
      for (std::string word; words >> word;)
        {
          const auto n = io::parse_integer(word);
          if (!n || *n < 1)
            throw std::runtime_error("'" + state.file.string() + "': entry '" + latent_shape_key +
                                     "' must hold positive grid sizes, got '" + text + "'");
          shape.push_back(*n);
        }
      if (shape.empty())
        throw std::runtime_error("'" + state.file.string() + "': entry '" + latent_shape_key + "' is empty");
      return shape;
    }
  } // namespace checkpoint_io
} // namespace mpno
