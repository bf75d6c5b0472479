#include <mpno/surrogate/io_utils.h>

#include "checkpoint_io.h"

#include <cstdlib>
#include <fstream>
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
          throw std::runtime_error("'" + file.string() + "', line " + std::to_string(line) + ": '" + text +
                                   "' is not a number");
        return value;
      }
    } // namespace

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
          out << record.epoch << ',' << exact(record.learning_rate) << ',' << exact(record.train_loss);
          for (const std::string &name : sets)
            {
              const auto       found = record.test_errors.find(name);
              const TestErrors errors =
                found != record.test_errors.end() ?
                  found->second :
                  TestErrors{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
              out << ',' << exact(errors.l2) << ',' << exact(errors.h1);
            }
          out << ',' << exact(record.seconds) << ',' << exact(record.samples_per_second) << ',' << record.skipped_steps
              << ',' << record.precision << '\n';
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
            throw std::runtime_error("'" + file.string() + "': unexpected column '" + name + "'");
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
            throw std::runtime_error("'" + file.string() + "', line " + std::to_string(number) + ": " +
                                     std::to_string(fields.size()) + " fields, expected " +
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
          record.skipped_steps      = static_cast<int64_t>(parse_double(fields[tail + 2], file, number));
          record.precision          = fields[tail + 3];
          history.push_back(record);
        }
      return history;
    }
  } // namespace checkpoint_io
} // namespace mpno
