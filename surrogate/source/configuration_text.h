// Internal to libmpno_surrogate: the "key = value" lines of a model's configuration text,
// as FNOOptions, SFNOOptions and GINOOptions write them (to_text) and read them back
// (from_text).
#pragma once

#include <mpno/surrogate/io_utils.h>

#include <initializer_list>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

namespace mpno
{
  namespace io
  {
    /**
     * Call @p entry(key, value) for each non-blank line "key = value" of @p text, in
     * order, both sides trimmed; returns the keys of the lines @p entry accepted (returned
     * from). @throws std::invalid_argument "<model> configuration: expected 'key = value',
     * got '<line>'" for a line without '='; whatever @p entry throws.
     */
    template <typename Entry>
    std::set<std::string>
    read_configuration(const std::string &text, const std::string &model, Entry &&entry)
    {
      std::set<std::string> seen;
      std::istringstream    in(text);
      std::string           line;
      while (std::getline(in, line))
        {
          if (trim(line).empty())
            continue;
          const auto eq = line.find('=');
          if (eq == std::string::npos)
            throw std::invalid_argument(model + " configuration: expected 'key = value', got '" + line + "'");
          const std::string key = trim(line.substr(0, eq));
          entry(key, trim(line.substr(eq + 1)));
          seen.insert(key);
        }
      return seen;
    }

    /** @throws std::invalid_argument "<model> configuration: missing key '<key>'" for the
     *  first of @p required that is not in @p seen. */
    inline void
    require_keys(const std::set<std::string>              &seen,
                 const std::initializer_list<const char *> required,
                 const std::string                        &model)
    {
      for (const char *key : required)
        if (seen.count(key) == 0)
          throw std::invalid_argument(model + " configuration: missing key '" + key + "'");
    }
  } // namespace io
} // namespace mpno
