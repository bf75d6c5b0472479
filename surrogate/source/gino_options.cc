// GINOOptions: validation and the "key = value" text stored in checkpoints.
#include <mpno/surrogate/gino.h>
#include <mpno/surrogate/io_utils.h>

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
      throw std::invalid_argument("GINO entry " + entry + ": expected one of " + list + ", got '" + value + "'");
    }

    [[noreturn]] void
    bad_value(const std::string &key, const std::string &value)
    {
      throw std::invalid_argument("GINO configuration: bad value '" + value + "' for key '" + key + "'");
    }

    std::string
    list_to_text(const std::vector<int64_t> &list)
    {
      std::string text;
      for (const int64_t n : list)
        text += (text.empty() ? "" : ", ") + std::to_string(n);
      return text;
    }

    std::string
    number_to_text(const double value)
    {
      std::ostringstream out;
      out.precision(17);
      out << value;
      return out.str();
    }
  } // namespace

  void
  GINOOptions::validate() const
  {
    const std::vector<std::pair<const char *, int64_t>> positive = {{"out_channels", out_channels},
                                                                    {"gno_embed_channels", gno_embed_channels},
                                                                    {"fno_in_channels", fno_in_channels},
                                                                    {"fno_hidden_channels", fno_hidden_channels},
                                                                    {"fno_n_layers", fno_n_layers},
                                                                    {"projection_channels", projection_channels}};
    for (const auto &[name, value] : positive)
      if (value < 1)
        throw std::invalid_argument(std::string("GINO entry ") + name + ": must be >= 1, got " + std::to_string(value));
    if (in_channels < 0 || latent_feature_channels < 0)
      throw std::invalid_argument("GINO entries in_channels and latent_feature_channels must be >= 0, got " +
                                  std::to_string(in_channels) + " and " + std::to_string(latent_feature_channels));
    if (gno_coord_dim != 2 && gno_coord_dim != 3)
      throw std::invalid_argument("GINO entry gno_coord_dim: expected 2 or 3, got " + std::to_string(gno_coord_dim));
    if (static_cast<int64_t>(fno_n_modes.size()) != gno_coord_dim)
      throw std::invalid_argument("GINO entry fno_n_modes: expected gno_coord_dim = " + std::to_string(gno_coord_dim) +
                                  " entries (one per latent axis), got " + std::to_string(fno_n_modes.size()));
    for (const int64_t m : fno_n_modes)
      if (m < 1)
        throw std::invalid_argument("GINO entry fno_n_modes: every entry must be >= 1, got " + std::to_string(m));
    for (const auto &[name, radius] : {std::pair{"in_gno_radius", in_gno_radius}, {"out_gno_radius", out_gno_radius}})
      if (!(radius > 0) || !std::isfinite(radius))
        throw std::invalid_argument(std::string("GINO entry ") + name + ": expected a radius > 0, got " +
                                    number_to_text(radius));
    for (const auto &[name, list] : {std::pair{"in_gno_channel_mlp_hidden_layers", &in_gno_channel_mlp_hidden_layers},
                                     {"out_gno_channel_mlp_hidden_layers", &out_gno_channel_mlp_hidden_layers}})
      for (const int64_t w : *list)
        if (w < 1)
          throw std::invalid_argument(std::string("GINO entry ") + name + ": every width must be >= 1, got " +
                                      std::to_string(w));
    check_choice("gno_pos_embed_type", gno_pos_embed_type, {"transformer", "nerf", "none"});
    check_choice("in_gno_transform_type", in_gno_transform_type, {"linear_kernelonly", "linear", "nonlinear"});
    check_choice("out_gno_transform_type", out_gno_transform_type, {"linear", "nonlinear"});
    if ((in_channels == 0) != (in_gno_transform_type == "linear_kernelonly"))
      throw std::invalid_argument("GINO entry in_gno_transform_type: linear_kernelonly goes with in_channels = 0 (no "
                                  "input function) and linear or nonlinear with in_channels >= 1; got '" +
                                  in_gno_transform_type + "' with in_channels = " + std::to_string(in_channels));
    check_choice("in_gno_reduction", in_gno_reduction, {"mean", "sum"});
    check_choice("out_gno_reduction", out_gno_reduction, {"mean", "sum"});
    check_choice("fno_skip", fno_skip, {"linear", "soft-gating", "identity"});
    check_choice("fno_channel_mlp_skip", fno_channel_mlp_skip, {"linear", "soft-gating", "identity"});
    check_choice("fno_norm", fno_norm, {"none", "group_norm"});
    check_choice("fno_factorization", fno_factorization, {"dense", "tucker", "cp", "tt"});
    check_choice("fno_implementation", fno_implementation, {"factorized", "reconstructed"});
    if (!(fno_rank > 0) || !std::isfinite(fno_rank))
      throw std::invalid_argument("GINO entry fno_rank: expected a fraction > 0, got " + number_to_text(fno_rank));
    if (!(fno_lifting_channel_ratio > 0) || !(fno_channel_mlp_expansion > 0) || !(gno_embed_max_positions > 0))
      throw std::invalid_argument("GINO entries fno_lifting_channel_ratio, fno_channel_mlp_expansion and "
                                  "gno_embed_max_positions must be > 0");
  }

  std::string
  GINOOptions::to_text() const
  {
    std::ostringstream out;
    out << "in_channels = " << in_channels << "\nout_channels = " << out_channels
        << "\nlatent_feature_channels = " << latent_feature_channels << "\ngno_coord_dim = " << gno_coord_dim
        << "\nin_gno_radius = " << number_to_text(in_gno_radius)
        << "\nout_gno_radius = " << number_to_text(out_gno_radius) << "\ngno_pos_embed_type = " << gno_pos_embed_type
        << "\ngno_embed_channels = " << gno_embed_channels
        << "\ngno_embed_max_positions = " << number_to_text(gno_embed_max_positions)
        << "\nin_gno_channel_mlp_hidden_layers = " << list_to_text(in_gno_channel_mlp_hidden_layers)
        << "\nout_gno_channel_mlp_hidden_layers = " << list_to_text(out_gno_channel_mlp_hidden_layers)
        << "\nin_gno_transform_type = " << in_gno_transform_type
        << "\nout_gno_transform_type = " << out_gno_transform_type << "\nin_gno_reduction = " << in_gno_reduction
        << "\nout_gno_reduction = " << out_gno_reduction << "\nout_gno_tanh = " << (out_gno_tanh ? "true" : "false")
        << "\nfno_in_channels = " << fno_in_channels << "\nfno_n_modes = " << list_to_text(fno_n_modes)
        << "\nfno_hidden_channels = " << fno_hidden_channels << "\nfno_n_layers = " << fno_n_layers
        << "\nfno_lifting_channel_ratio = " << number_to_text(fno_lifting_channel_ratio)
        << "\nfno_channel_mlp_expansion = " << number_to_text(fno_channel_mlp_expansion) << "\nfno_skip = " << fno_skip
        << "\nfno_channel_mlp_skip = " << fno_channel_mlp_skip << "\nfno_norm = " << fno_norm
        << "\nfno_factorization = " << fno_factorization << "\nfno_rank = " << number_to_text(fno_rank)
        << "\nfno_implementation = " << fno_implementation << "\nprojection_channels = " << projection_channels << "\n";
    return out.str();
  }

  GINOOptions
  GINOOptions::from_text(const std::string &text)
  {
    GINOOptions                 options;
    const std::set<std::string> seen =
      io::read_configuration(text, "GINO", [&](const std::string &key, const std::string &value) {
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
        const auto list = [&] {
          std::vector<int64_t> result;
          std::istringstream   items(value);
          std::string          item;
          while (std::getline(items, item, ','))
            result.push_back(integer(io::trim(item)));
          return result;
        };
        if (key == "in_channels")
          options.in_channels = integer(value);
        else if (key == "out_channels")
          options.out_channels = integer(value);
        else if (key == "latent_feature_channels")
          options.latent_feature_channels = integer(value);
        else if (key == "gno_coord_dim")
          options.gno_coord_dim = integer(value);
        else if (key == "in_gno_radius")
          options.in_gno_radius = real();
        else if (key == "out_gno_radius")
          options.out_gno_radius = real();
        else if (key == "gno_pos_embed_type")
          options.gno_pos_embed_type = value;
        else if (key == "gno_embed_channels")
          options.gno_embed_channels = integer(value);
        else if (key == "gno_embed_max_positions")
          options.gno_embed_max_positions = real();
        else if (key == "in_gno_channel_mlp_hidden_layers")
          options.in_gno_channel_mlp_hidden_layers = list();
        else if (key == "out_gno_channel_mlp_hidden_layers")
          options.out_gno_channel_mlp_hidden_layers = list();
        else if (key == "in_gno_transform_type")
          options.in_gno_transform_type = value;
        else if (key == "out_gno_transform_type")
          options.out_gno_transform_type = value;
        else if (key == "in_gno_reduction")
          options.in_gno_reduction = value;
        else if (key == "out_gno_reduction")
          options.out_gno_reduction = value;
        else if (key == "out_gno_tanh")
          {
            if (value != "true" && value != "false")
              bad_value(key, value);
            options.out_gno_tanh = value == "true";
          }
        else if (key == "fno_in_channels")
          options.fno_in_channels = integer(value);
        else if (key == "fno_n_modes")
          options.fno_n_modes = list();
        else if (key == "fno_hidden_channels")
          options.fno_hidden_channels = integer(value);
        else if (key == "fno_n_layers")
          options.fno_n_layers = integer(value);
        else if (key == "fno_lifting_channel_ratio")
          options.fno_lifting_channel_ratio = real();
        else if (key == "fno_channel_mlp_expansion")
          options.fno_channel_mlp_expansion = real();
        else if (key == "fno_skip")
          options.fno_skip = value;
        else if (key == "fno_channel_mlp_skip")
          options.fno_channel_mlp_skip = value;
        else if (key == "fno_norm")
          options.fno_norm = value;
        else if (key == "fno_factorization")
          options.fno_factorization = value;
        else if (key == "fno_rank")
          options.fno_rank = real();
        else if (key == "fno_implementation")
          options.fno_implementation = value;
        else if (key == "projection_channels")
          options.projection_channels = integer(value);
        else
          throw std::invalid_argument("GINO configuration: unknown key '" + key + "'");
      });
    io::require_keys(
      seen,
      {"in_channels", "out_channels", "gno_coord_dim", "fno_n_modes", "fno_hidden_channels", "fno_n_layers"},
      "GINO");
    options.validate();
    return options;
  }
} // namespace mpno
