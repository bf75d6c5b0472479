// The built-in surrogate "fno": subsection Surrogate/FNO, an mpno::FNOOptions.
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/patterns.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/surrogate.h>

#include <mpno/surrogate/fno.h>

#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace Surrogate
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    /** Fourier neural operator (Li et al. 2021; neuraloperator's FNO). */
    class FNO : public Interface
    {
    public:
      /** Declare subsection FNO (inside subsection Surrogate). */
      static void
      declare_parameters(ParameterHandler &prm);

      void
      parse_parameters(ParameterHandler &prm) override;

      /** The number of entries of n_modes. */
      int64_t
      spatial_dimension() const override
      {
        return static_cast<int64_t>(options_.n_modes.size());
      }

      /** ("fno", FNOOptions::to_text()) with the given channels. */
      std::pair<std::string, std::string>
      configuration(int64_t in_channels, int64_t out_channels) const override
      {
        FNOOptions options   = options_;
        options.in_channels  = in_channels;
        options.out_channels = out_channels;
        return {"fno", options.to_text()};
      }

    private:
      FNOOptions options_;
    };

    void
    FNO::declare_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("FNO");
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
      prm.leave_subsection();
    }

    void
    FNO::parse_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("FNO");
      FNOOptions &fno = options_;
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
      prm.leave_subsection();

      // Values the patterns admit but the entries forbid, named by entry.
      const auto text = [](double value) {
        std::ostringstream out;
        out << value;
        return out.str();
      };
      const auto require_positive = [&](const std::string &entry, double value) {
        if (!(value > 0.))
          throw std::invalid_argument("entry 'Surrogate/FNO/" + entry + "' must be > 0, got " + text(value));
      };
      require_positive("lifting_channel_ratio", fno.lifting_channel_ratio);
      require_positive("projection_channel_ratio", fno.projection_channel_ratio);
      require_positive("channel_mlp_expansion", fno.channel_mlp_expansion);
      if (!(fno.domain_padding < 1.))
        throw std::invalid_argument("entry 'Surrogate/FNO/domain_padding' must be < 1, got " +
                                    text(fno.domain_padding));
      // What validate() checks beyond that (a backstop: its messages name the option).
      try
        {
          fno.validate();
        }
      catch (const std::invalid_argument &error)
        {
          throw std::invalid_argument(std::string("subsection Surrogate/FNO: ") + error.what());
        }
    }
  } // namespace Surrogate
} // namespace mpno

MPNO_REGISTER_SURROGATE(mpno::Surrogate::FNO,
                        "fno",
                        "Fourier neural operator (Li et al. 2021; neuraloperator's FNO), its "
                        "parameters in subsection FNO")
