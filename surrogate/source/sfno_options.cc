// SFNOOptions: validation and the "key = value" text stored in checkpoints.
#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/sfno.h>

#include "configuration_text.h"

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace
  {
    void
    check_choice(const std::string &entry, const std::string &value, const std::vector<std::string> &choices)
    {
      for (const auto &choice : choices)
        if (value == choice)
          return;
      std::string list;
      for (const auto &choice : choices)
        list += (list.empty() ? "" : ", ") + choice;
      throw std::invalid_argument("SFNO entry " + entry + ": expected one of " + list + ", got '" + value + "'");
    }

    [[noreturn]] void
    bad_value(const std::string &key, const std::string &value)
    {
      throw std::invalid_argument("SFNO configuration: bad value '" + value + "' for key '" + key + "'");
    }
  } // namespace

  void
  SFNOOptions::validate() const
  {
    if (n_modes.size() != 2)
      throw std::invalid_argument("SFNO entry n_modes: expected 2 entries (lmax, m), got " +
                                  std::to_string(n_modes.size()));
    if (n_modes[0] < 1 || n_modes[1] < 2)
      throw std::invalid_argument("SFNO entry n_modes: expected lmax >= 1 and m >= 2, got " +
                                  std::to_string(n_modes[0]) + ", " + std::to_string(n_modes[1]));
    const std::vector<std::pair<const char *, int64_t>> positive = {{"in_channels", in_channels},
                                                                    {"out_channels", out_channels},
                                                                    {"hidden_channels", hidden_channels},
                                                                    {"n_layers", n_layers}};
    for (const auto &[name, value] : positive)
      if (value < 1)
        throw std::invalid_argument(std::string("SFNO entry ") + name + ": must be >= 1, got " + std::to_string(value));
    if (!(lifting_channel_ratio > 0) || !(projection_channel_ratio > 0) || !(channel_mlp_expansion > 0))
      throw std::invalid_argument("SFNO entries lifting_channel_ratio, projection_channel_ratio and "
                                  "channel_mlp_expansion must be > 0");
    check_choice("fno_skip", fno_skip, {"linear", "soft-gating", "identity"});
    check_choice("channel_mlp_skip", channel_mlp_skip, {"linear", "soft-gating", "identity"});
    check_choice("norm", norm, {"none", "group_norm"});
    check_choice("positional_embedding", positional_embedding, {"grid", "none"});
    check_choice("grid", grid, {"equiangular", "legendre-gauss"});
  }

  std::string
  SFNOOptions::to_text() const
  {
    std::ostringstream out;
    out.precision(17);
    out << "n_modes =";
    for (std::size_t j = 0; j < n_modes.size(); ++j)
      out << (j ? ", " : " ") << n_modes[j];
    out << "\nin_channels = " << in_channels << "\nout_channels = " << out_channels
        << "\nhidden_channels = " << hidden_channels << "\nn_layers = " << n_layers
        << "\nlifting_channel_ratio = " << lifting_channel_ratio
        << "\nprojection_channel_ratio = " << projection_channel_ratio
        << "\nchannel_mlp_expansion = " << channel_mlp_expansion << "\nfno_skip = " << fno_skip
        << "\nchannel_mlp_skip = " << channel_mlp_skip << "\nnorm = " << norm
        << "\npositional_embedding = " << positional_embedding << "\ngrid = " << grid << "\n";
    return out.str();
  }

  SFNOOptions
  SFNOOptions::from_text(const std::string &text)
  {
    SFNOOptions                 options;
    const std::set<std::string> seen =
      io::read_configuration(text, "SFNO", [&](const std::string &key, const std::string &value) {
        const auto integer = [&](const std::string &v) {
          const auto number = io::parse_integer(v);
          if (!number)
            bad_value(key, value);
          return *number;
        };
        const auto real = [&] {
          const auto number = io::parse_double(value);
          if (!number)
            bad_value(key, value);
          return *number;
        };
        if (key == "n_modes")
          {
            options.n_modes.clear();
            std::istringstream list(value);
            std::string        item;
            while (std::getline(list, item, ','))
              options.n_modes.push_back(integer(io::trim(item)));
          }
        else if (key == "in_channels")
          options.in_channels = integer(value);
        else if (key == "out_channels")
          options.out_channels = integer(value);
        else if (key == "hidden_channels")
          options.hidden_channels = integer(value);
        else if (key == "n_layers")
          options.n_layers = integer(value);
        else if (key == "lifting_channel_ratio")
          options.lifting_channel_ratio = real();
        else if (key == "projection_channel_ratio")
          options.projection_channel_ratio = real();
        else if (key == "channel_mlp_expansion")
          options.channel_mlp_expansion = real();
        else if (key == "fno_skip")
          options.fno_skip = value;
        else if (key == "channel_mlp_skip")
          options.channel_mlp_skip = value;
        else if (key == "norm")
          options.norm = value;
        else if (key == "positional_embedding")
          options.positional_embedding = value;
        else if (key == "grid")
          options.grid = value;
        else
          throw std::invalid_argument("SFNO configuration: unknown key '" + key + "'");
      });
    io::require_keys(seen, {"n_modes", "in_channels", "out_channels", "hidden_channels", "n_layers"}, "SFNO");
    options.validate();
    return options;
  }
} // namespace mpno
