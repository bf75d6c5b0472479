// The built-in surrogate "sfno": subsection Surrogate/SFNO, an mpno::SFNOOptions (spherical
// Fourier neural operator on a latitude-longitude grid).
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/patterns.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/surrogate.h>

#include <mpno/surrogate/sfno.h>

#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace Surrogate
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    /** Spherical Fourier neural operator (Bonev et al. 2023; neuraloperator's SFNO). */
    class SFNO : public Interface
    {
    public:
      /** Declare subsection SFNO (inside subsection Surrogate). */
      static void
      declare_parameters(ParameterHandler &prm);

      void
      parse_parameters(ParameterHandler &prm) override;

      /** 2: data [batch, channels, nlat, nlon] on a latitude-longitude grid. */
      int64_t
      spatial_dimension() const override
      {
        return 2;
      }

      /** ("sfno", SFNOOptions::to_text()) with the given channels. */
      std::pair<std::string, std::string>
      configuration(int64_t in_channels, int64_t out_channels) const override
      {
        SFNOOptions options  = options_;
        options.in_channels  = in_channels;
        options.out_channels = out_channels;
        return {"sfno", options.to_text()};
      }

    private:
      SFNOOptions options_;
    };

    void
    SFNO::declare_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("SFNO");
      prm.declare_entry("n_modes",
                        "16, 32",
                        Patterns::List(Patterns::Integer(1), 2, 2),
                        "n_1, n_2: spherical harmonic degrees l < n_1 and orders m < n_2 / 2 kept "
                        "(neuraloperator's n_modes of SphericalConv), then both truncated to the "
                        "smaller (triangular truncation) and to what the grid resolves.");
      prm.declare_entry("hidden_channels", "64", Patterns::Integer(1), "Width (channels) of the blocks.");
      prm.declare_entry("n_layers", "4", Patterns::Integer(1), "Number of spherical Fourier blocks.");
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
                        "Skip connection around the spherical convolution: linear (1x1 map), "
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
                        "grid appends colatitude/pi and longitude/(2 pi) of each grid point as "
                        "input channels; none keeps the model equivariant to rotations about the "
                        "polar axis.");
      prm.declare_entry("grid",
                        "equiangular",
                        Patterns::Selection("equiangular|legendre-gauss"),
                        "Latitude-longitude grid of the data: equiangular (both poles included, "
                        "Clenshaw-Curtis quadrature) or legendre-gauss (Gauss-Legendre latitudes).");
      prm.leave_subsection();
    }

    void
    SFNO::parse_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("SFNO");
      options_.n_modes.clear();
      for (const int n : dealii::Utilities::string_to_int(dealii::Utilities::split_string_list(prm.get("n_modes"))))
        options_.n_modes.push_back(n);
      options_.hidden_channels          = prm.get_integer("hidden_channels");
      options_.n_layers                 = prm.get_integer("n_layers");
      options_.lifting_channel_ratio    = prm.get_double("lifting_channel_ratio");
      options_.projection_channel_ratio = prm.get_double("projection_channel_ratio");
      options_.channel_mlp_expansion    = prm.get_double("channel_mlp_expansion");
      options_.fno_skip                 = prm.get("fno_skip");
      options_.channel_mlp_skip         = prm.get("channel_mlp_skip");
      options_.norm                     = prm.get("norm");
      options_.positional_embedding     = prm.get("positional_embedding");
      options_.grid                     = prm.get("grid");
      prm.leave_subsection();
      // What the patterns admit but the model forbids (ratios of 0, m < 2), named by entry.
      try
        {
          options_.validate();
        }
      catch (const std::invalid_argument &error)
        {
          throw std::invalid_argument("subsection Surrogate/SFNO: " + std::string(error.what()));
        }
    }
  } // namespace Surrogate
} // namespace mpno

MPNO_REGISTER_SURROGATE(mpno::Surrogate::SFNO,
                        "sfno",
                        "Spherical Fourier neural operator (Bonev et al. 2023; neuraloperator's SFNO) "
                        "on a latitude-longitude grid [nlat, nlon], its parameters in subsection SFNO")
