// The FNO entries shared by the surrogates fno and tfno.
#include <deal.II/base/patterns.h>
#include <deal.II/base/utilities.h>

#include "fno_entries.h"

#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace Surrogate
  {
    namespace Patterns = dealii::Patterns;

    void
    declare_fno_entries(dealii::ParameterHandler &prm)
    {
      prm.declare_entry("n_modes",
                        "16, 16",
                        Patterns::List(Patterns::Integer(1), 1, 3),
                        "Fourier modes kept per spatial dimension; the number of entries is the "
                        "spatial dimension of the data (1 to 3).");
      prm.declare_entry("hidden_channels", "64", Patterns::Integer(1), "Width (channels) of the Fourier blocks.");
      prm.declare_entry("n_layers", "4", Patterns::Integer(1), "Number of Fourier blocks.");
      prm.declare_entry("lifting_channel_ratio",
                        "2",
                        Patterns::Double(0),
                        "Hidden width of the lifting channel MLP relative to hidden_channels; "
                        "must be > 0.");
      prm.declare_entry("projection_channel_ratio",
                        "2",
                        Patterns::Double(0),
                        "Hidden width of the projection channel MLP relative to hidden_channels; "
                        "must be > 0.");
      prm.declare_entry("channel_mlp_expansion",
                        "0.5",
                        Patterns::Double(0),
                        "Hidden width of the channel MLP in each block relative to "
                        "hidden_channels; must be > 0.");
      prm.declare_entry("fno_skip",
                        "linear",
                        Patterns::Selection("linear|soft-gating|identity"),
                        "Skip connection around the spectral convolution: linear (1x1 map), "
                        "soft-gating (per-channel weight) or identity.");
      prm.declare_entry("channel_mlp_skip",
                        "soft-gating",
                        Patterns::Selection("linear|soft-gating|identity"),
                        "Skip connection around the channel MLP of each block.");
      prm.declare_entry("norm",
                        "none",
                        Patterns::Selection("none|group_norm"),
                        "Normalisation in the blocks: none, or group_norm (GroupNorm with one "
                        "group).");
      prm.declare_entry("positional_embedding",
                        "grid",
                        Patterns::Selection("grid|none"),
                        "grid appends the d coordinates x_j in [0, 1) as input channels.");
      prm.declare_entry("domain_padding",
                        "0",
                        Patterns::Double(0, 1),
                        "Fraction of each spatial size padded with zeros before the blocks "
                        "(for non-periodic data), in [0, 1); 0 turns padding off.");
      prm.declare_entry("domain_padding_mode",
                        "one-sided",
                        Patterns::Selection("one-sided|symmetric"),
                        "Pad at the end of each axis (one-sided) or at both ends (symmetric).");
    }

    void
    parse_fno_entries(dealii::ParameterHandler &prm, FNOOptions &options, const std::string &subsection)
    {
      FNOOptions &fno = options;
      fno.n_modes.clear();
      for (const int n : dealii::Utilities::string_to_int(dealii::Utilities::split_string_list(prm.get("n_modes"))))
        fno.n_modes.push_back(n);
      fno.hidden_channels          = prm.get_integer("hidden_channels");
      fno.n_layers                 = prm.get_integer("n_layers");
      fno.lifting_channel_ratio    = prm.get_double("lifting_channel_ratio");
      fno.projection_channel_ratio = prm.get_double("projection_channel_ratio");
      fno.channel_mlp_expansion    = prm.get_double("channel_mlp_expansion");
      fno.fno_skip                 = prm.get("fno_skip");
      fno.channel_mlp_skip         = prm.get("channel_mlp_skip");
      fno.norm                     = prm.get("norm");
      fno.positional_embedding     = prm.get("positional_embedding");
      fno.domain_padding           = prm.get_double("domain_padding");
      fno.domain_padding_mode      = prm.get("domain_padding_mode");

      // Values the patterns admit but the entries forbid, named by entry.
      const auto text = [](double value) {
        std::ostringstream out;
        out << value;
        return out.str();
      };
      const auto require_positive = [&](const std::string &entry, double value) {
        if (!(value > 0.))
          throw std::invalid_argument("entry '" + subsection + "/" + entry + "' must be > 0, got " + text(value));
      };
      require_positive("lifting_channel_ratio", fno.lifting_channel_ratio);
      require_positive("projection_channel_ratio", fno.projection_channel_ratio);
      require_positive("channel_mlp_expansion", fno.channel_mlp_expansion);
      if (!(fno.domain_padding < 1.))
        throw std::invalid_argument("entry '" + subsection + "/domain_padding' must be < 1, got " +
                                    text(fno.domain_padding));
    }

    void
    validate_fno_options(const FNOOptions &options, const std::string &subsection)
    {
      // What the parsers check beyond the patterns (a backstop: its messages name the option).
      try
        {
          options.validate();
        }
      catch (const std::invalid_argument &error)
        {
          throw std::invalid_argument("subsection " + subsection + ": " + error.what());
        }
    }
  } // namespace Surrogate
} // namespace mpno
