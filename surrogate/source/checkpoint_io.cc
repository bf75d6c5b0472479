#include "checkpoint_io.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace mpno
{
  namespace checkpoint_io
  {
    namespace fs = std::filesystem;

    namespace
    {
      std::string
      trim(const std::string &s)
      {
        const auto begin = s.find_first_not_of(" \t\r");
        if (begin == std::string::npos)
          return "";
        const auto end = s.find_last_not_of(" \t\r");
        return s.substr(begin, end - begin + 1);
      }

      std::vector<std::string>
      split_csv(const std::string &line)
      {
        std::vector<std::string> fields;
        std::string              field;
        std::istringstream       in(line);
        while (std::getline(in, field, ','))
          fields.push_back(trim(field));
        if (!line.empty() && line.back() == ',')
          fields.emplace_back();
        return fields;
      }

      double
      parse_double(const std::string &text, const fs::path &file, int line)
      {
        char        *end   = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0')
          throw std::runtime_error("'" + file.string() + "', line " + std::to_string(line) +
                                   ": '" + text + "' is not a number");
        return value;
      }

      constexpr const char *config_marker = "[model config]";
    } // namespace

    void
    write_file_atomically(const fs::path &path, const std::string &content)
    {
      fs::path temporary = path;
      temporary += ".tmp";
      {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << content;
        out.flush();
        if (!out)
          throw std::runtime_error("cannot write '" + temporary.string() + "'");
      }
      std::error_code error;
      fs::rename(temporary, path, error);
      if (error)
        throw std::runtime_error("cannot rename '" + temporary.string() + "' to '" +
                                 path.string() + "': " + error.message());
    }

    void
    replace_directory(const fs::path &staged, const fs::path &target)
    {
      if (fs::exists(target))
        {
#ifdef RENAME_EXCHANGE
          // Atomic swap: a reader sees the complete old or the complete new directory.
          if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) ==
              0)
            {
              fs::remove_all(staged);
              return;
            }
#endif
          fs::path old = target;
          old += ".old";
          fs::remove_all(old);
          std::error_code error;
          fs::rename(target, old, error);
          if (error)
            throw std::runtime_error("cannot move '" + target.string() + "' aside: " +
                                     error.message());
          fs::rename(staged, target, error);
          if (error)
            throw std::runtime_error("cannot rename '" + staged.string() + "' to '" +
                                     target.string() + "': " + error.message() +
                                     " (the previous checkpoint is in '" + old.string() + "')");
          fs::remove_all(old);
          return;
        }
      std::error_code error;
      fs::rename(staged, target, error);
      if (error)
        throw std::runtime_error("cannot rename '" + staged.string() + "' to '" +
                                 target.string() + "': " + error.message());
    }

    void
    require_file(const fs::path &directory, const std::string &file)
    {
      if (!fs::is_regular_file(directory / file))
        throw std::runtime_error("checkpoint directory '" + directory.string() + "' has no " +
                                 file);
    }

    void
    save_module(const torch::nn::Module &module, const fs::path &file)
    {
      torch::serialize::OutputArchive archive;
      module.save(archive);
      archive.save_to(file.string());
    }

    namespace
    {
      void
      copy_into(const torch::Tensor &destination,
                const torch::Tensor &source,
                const std::string   &key,
                const fs::path      &file)
      {
        if (destination.sizes() != source.sizes() || destination.dtype() != source.dtype())
          {
            std::ostringstream message;
            message << "'" << file.string() << "': entry '" << key << "' has shape "
                    << source.sizes() << " and dtype " << source.dtype()
                    << ", the model expects " << destination.sizes() << " and "
                    << destination.dtype();
            throw std::runtime_error(message.str());
          }
        torch::NoGradGuard no_grad;
        destination.copy_(source);
      }

      // Mirrors torch::nn::Module::load (own parameters, own buffers, then children
      // as nested archives), but copies instead of swapping storage and checks shapes.
      void
      load_recursively(torch::nn::Module               &module,
                       torch::serialize::InputArchive &archive,
                       const std::string              &prefix,
                       const fs::path                 &file)
      {
        for (const auto &item : module.named_parameters(/*recurse=*/false))
          {
            torch::Tensor loaded;
            if (!archive.try_read(item.key(), loaded, /*is_buffer=*/false))
              throw std::runtime_error("'" + file.string() + "' has no parameter '" + prefix +
                                       item.key() + "'");
            copy_into(item.value(), loaded, prefix + item.key(), file);
          }
        for (const auto &item : module.named_buffers(/*recurse=*/false))
          {
            torch::Tensor loaded;
            if (!archive.try_read(item.key(), loaded, /*is_buffer=*/true))
              throw std::runtime_error("'" + file.string() + "' has no buffer '" + prefix +
                                       item.key() + "'");
            copy_into(item.value(), loaded, prefix + item.key(), file);
          }
        for (const auto &child : module.named_children())
          {
            torch::serialize::InputArchive child_archive;
            if (!archive.try_read(child.key(), child_archive))
              throw std::runtime_error("'" + file.string() + "' has no submodule '" + prefix +
                                       child.key() + "'");
            load_recursively(*child.value(), child_archive, prefix + child.key() + ".", file);
          }
      }
    } // namespace

    void
    load_module(torch::nn::Module &module, const fs::path &file)
    {
      torch::serialize::InputArchive archive;
      try
        {
          archive.load_from(file.string());
        }
      catch (const c10::Error &error)
        {
          throw std::runtime_error("cannot read '" + file.string() +
                                   "': " + error.what_without_backtrace());
        }
      load_recursively(module, archive, "", file);
    }

    void
    save_normalizers(const std::optional<UnitGaussianNormalizer> &input,
                     const std::optional<UnitGaussianNormalizer> &output,
                     const fs::path                              &file)
    {
      torch::serialize::OutputArchive archive;
      if (input && input->fitted())
        input->save(archive, "input");
      if (output && output->fitted())
        output->save(archive, "output");
      archive.save_to(file.string());
    }

    void
    load_normalizers(std::optional<UnitGaussianNormalizer> &input,
                     std::optional<UnitGaussianNormalizer> &output,
                     bool                                   with_input,
                     bool                                   with_output,
                     const fs::path                        &file)
    {
      try
        {
          torch::serialize::InputArchive archive;
          archive.load_from(file.string());
          input.reset();
          output.reset();
          if (with_input)
            {
              input.emplace();
              input->load(archive, "input");
            }
          if (with_output)
            {
              output.emplace();
              output->load(archive, "output");
            }
        }
      catch (const std::exception &error)
        {
          throw std::runtime_error("cannot read the normalisers from '" + file.string() +
                                   "': " + error.what());
        }
    }

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
          << "precision.spectral_precision = " << to_string(state.precision.spectral_precision)
          << '\n'
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
      int                                number = 0;
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

      state.entries = entries;
      const auto take = [&](const std::string &key) -> std::string {
        const std::string value = state_entry(state, key, file);
        state.entries.erase(key);
        return value;
      };
      try
        {
          take("format");
          state.model_name = take("model");
          state.precision.spectral_precision =
            parse_spectral_precision(take("precision.spectral_precision"));
          state.precision.reduced_type = parse_reduced_type(take("precision.reduced_type"));
          state.precision.stabilizer   = parse_stabilizer(take("precision.stabilizer"));
          state.precision.autocast     = take("precision.autocast") == "true";
        }
      catch (const std::invalid_argument &error)
        {
          throw std::runtime_error("'" + file.string() + "': " + error.what());
        }
      return state;
    }

    const std::string &
    state_entry(const CheckpointState &state, const std::string &key, const fs::path &file)
    {
      const auto found = state.entries.find(key);
      if (found == state.entries.end())
        throw std::runtime_error("'" + file.string() + "' has no entry '" + key + "'");
      return found->second;
    }

    std::string
    format_history(const std::vector<EpochRecord> &history)
    {
      std::ostringstream out;
      out << "epoch,learning_rate,train_loss";
      std::vector<std::string> sets;
      if (!history.empty())
        for (const auto &[name, errors] : history.front().test_errors)
          {
            sets.push_back(name);
            out << ',' << name << "_l2," << name << "_h1";
          }
      out << ",seconds,samples_per_second,skipped_steps,precision\n";
      for (const EpochRecord &record : history)
        {
          out << record.epoch << ',' << exact(record.learning_rate) << ','
              << exact(record.train_loss);
          for (const std::string &name : sets)
            {
              const auto found = record.test_errors.find(name);
              const TestErrors errors =
                found != record.test_errors.end() ?
                  found->second :
                  TestErrors{std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::quiet_NaN()};
              out << ',' << exact(errors.l2) << ',' << exact(errors.h1);
            }
          out << ',' << exact(record.seconds) << ',' << exact(record.samples_per_second) << ','
              << record.skipped_steps << ',' << record.precision << '\n';
        }
      return out.str();
    }

    std::vector<EpochRecord>
    read_history(const fs::path &file)
    {
      std::ifstream in(file);
      if (!in)
        throw std::runtime_error("cannot read '" + file.string() + "'");
      std::string line;
      if (!std::getline(in, line))
        return {};
      const std::vector<std::string> header = split_csv(line);
      if (header.size() < 7 || header[0] != "epoch" || (header.size() - 7) % 2 != 0)
        throw std::runtime_error("'" + file.string() + "': unexpected header '" + line + "'");
      std::vector<std::string> sets;
      for (std::size_t column = 3; column + 4 < header.size(); column += 2)
        {
          const std::string &name = header[column];
          if (name.size() < 3 || name.substr(name.size() - 3) != "_l2")
            throw std::runtime_error("'" + file.string() + "': unexpected column '" + name +
                                     "'");
          sets.push_back(name.substr(0, name.size() - 3));
        }

      std::vector<EpochRecord> history;
      int                      number = 1;
      while (std::getline(in, line))
        {
          ++number;
          if (trim(line).empty())
            continue;
          const std::vector<std::string> fields = split_csv(line);
          if (fields.size() != header.size())
            throw std::runtime_error("'" + file.string() + "', line " + std::to_string(number) +
                                     ": " + std::to_string(fields.size()) + " fields, expected " +
                                     std::to_string(header.size()));
          EpochRecord record;
          record.epoch         = static_cast<int64_t>(parse_double(fields[0], file, number));
          record.learning_rate = parse_double(fields[1], file, number);
          record.train_loss    = parse_double(fields[2], file, number);
          for (std::size_t s = 0; s < sets.size(); ++s)
            record.test_errors[sets[s]] = {parse_double(fields[3 + 2 * s], file, number),
                                           parse_double(fields[4 + 2 * s], file, number)};
          const std::size_t tail    = 3 + 2 * sets.size();
          record.seconds            = parse_double(fields[tail], file, number);
          record.samples_per_second = parse_double(fields[tail + 1], file, number);
          record.skipped_steps = static_cast<int64_t>(parse_double(fields[tail + 2], file, number));
          record.precision     = fields[tail + 3];
          history.push_back(record);
        }
      return history;
    }
  } // namespace checkpoint_io
} // namespace mpno
