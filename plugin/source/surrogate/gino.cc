// The built-in surrogate "gino": subsection Surrogate/GINO, an mpno::GINOOptions with
// neuraloperator's names (neuralop/models/gino.py; method.md Sec. 4.3).
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/patterns.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/surrogate.h>

#include <mpno/surrogate/gino.h>

#include <stdexcept>

namespace mpno
{
  namespace Surrogate
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    /** Geometry-informed neural operator (Li et al., NeurIPS 2023; neuraloperator's GINO). */
    class GINO : public Interface
    {
    public:
      /** Declare subsection GINO (inside subsection Surrogate). */
      static void
      declare_parameters(ParameterHandler &prm);

      void
      parse_parameters(ParameterHandler &prm) override;

      /** gno_coord_dim, the dimension of the points and of the latent grid. */
      int64_t
      spatial_dimension() const override
      {
        return options_.gno_coord_dim;
      }

      bool
      point_cloud() const override
      {
        return true;
      }

      /** GINO needs the latent features' channels too (point_cloud_configuration()).
       *  @throws std::logic_error. */
      std::pair<std::string, std::string>
      configuration(int64_t, int64_t) const override
      {
        throw std::logic_error("Surrogate gino: a point-cloud model; its data are point-cloud sets (a Problem "
                               "whose geometry varies, e.g. holes), not grids");
      }

      /** ("gino", GINOOptions::to_text()) with the given channels. */
      std::pair<std::string, std::string>
      point_cloud_configuration(int64_t in_channels, int64_t out_channels, int64_t latent_features) const override
      {
        GINOOptions options             = options_;
        options.in_channels             = in_channels;
        options.out_channels            = out_channels;
        options.latent_feature_channels = latent_features;
        if (in_channels == 0)
          options.in_gno_transform_type = "linear_kernelonly";
        options.validate();
        return {"gino", options.to_text()};
      }

    private:
      GINOOptions options_;
    };

    void
    GINO::declare_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("GINO");
      prm.declare_entry("gno_coord_dim",
                        "2",
                        Patterns::Integer(2, 3),
                        "Dimension d of the points and of the latent grid (the problem's).");
      prm.declare_entry("in_gno_radius",
                        "0.035",
                        Patterns::Double(0),
                        "Radius of the input GNO's neighbourhoods (input points within it of each latent "
                        "grid point), in mesh units; must be > 0. About 1.1 latent grid spacings keeps "
                        "every point in reach.");
      prm.declare_entry("out_gno_radius",
                        "0.035",
                        Patterns::Double(0),
                        "Radius of the output GNO's neighbourhoods (latent grid points within it of each "
                        "output point), in mesh units; must be > 0.");
      prm.declare_entry("gno_pos_embed_type",
                        "transformer",
                        Patterns::Selection("transformer|nerf|none"),
                        "Sinusoidal embedding of the coordinates the GNO kernels see.");
      prm.declare_entry("gno_embed_channels",
                        "8",
                        Patterns::Integer(1),
                        "Frequencies per coordinate of that embedding (neuraloperator: 32).");
      prm.declare_entry("in_gno_channel_mlp_hidden_layers",
                        "32, 32",
                        Patterns::List(Patterns::Integer(1), 1, 8),
                        "Hidden widths of the input GNO's kernel MLP (neuraloperator: 80, 80, 80).");
      prm.declare_entry("out_gno_channel_mlp_hidden_layers",
                        "32, 32",
                        Patterns::List(Patterns::Integer(1), 1, 8),
                        "Hidden widths of the output GNO's kernel MLP (neuraloperator: 512, 256).");
      prm.declare_entry("in_gno_transform_type",
                        "linear",
                        Patterns::Selection("linear|linear_kernelonly|nonlinear"),
                        "Integral transform of the input GNO: linear (k(x, y) f(y)), linear_kernelonly "
                        "(k(x, y), the geometry alone; forced when the data have no input channel) or "
                        "nonlinear (k(x, y, f(y)) f(y)).");
      prm.declare_entry("out_gno_transform_type",
                        "linear",
                        Patterns::Selection("linear|nonlinear"),
                        "Integral transform of the output GNO.");
      prm.declare_entry("out_gno_tanh", "false", Patterns::Bool(), "tanh on the latent field before the output GNO.");
      prm.declare_entry("fno_n_modes",
                        "12, 12",
                        Patterns::List(Patterns::Integer(1), 2, 3),
                        "Fourier modes of the latent FNO per latent axis (gno_coord_dim entries). The "
                        "latent grid has `Data generation/Training grid points` points per axis.");
      prm.declare_entry("fno_hidden_channels", "32", Patterns::Integer(1), "Width of the latent FNO blocks.");
      prm.declare_entry("fno_n_layers", "4", Patterns::Integer(1), "Number of latent FNO blocks.");
      prm.declare_entry("fno_lifting_channel_ratio",
                        "2",
                        Patterns::Double(0),
                        "Hidden width of the lifting MLP relative to fno_hidden_channels; must be > 0.");
      prm.declare_entry("fno_channel_mlp_expansion",
                        "0.5",
                        Patterns::Double(0),
                        "Hidden width of each block's channel MLP relative to fno_hidden_channels; must be > 0.");
      prm.declare_entry("fno_skip",
                        "linear",
                        Patterns::Selection("linear|soft-gating|identity"),
                        "Skip connection around the spectral convolutions.");
      prm.declare_entry("fno_channel_mlp_skip",
                        "soft-gating",
                        Patterns::Selection("linear|soft-gating|identity"),
                        "Skip connection around the channel MLPs.");
      prm.declare_entry("fno_norm", "none", Patterns::Selection("none|group_norm"), "Normalisation in the blocks.");
      prm.declare_entry("projection_channels",
                        "64",
                        Patterns::Integer(1),
                        "Hidden width of the projection MLP at the output points (neuraloperator: 256).");
      prm.leave_subsection();
    }

    void
    GINO::parse_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("GINO");
      const auto list = [&](const std::string &entry) {
        std::vector<int64_t> values;
        for (const int v : dealii::Utilities::string_to_int(dealii::Utilities::split_string_list(prm.get(entry))))
          values.push_back(v);
        return values;
      };
      options_.gno_coord_dim                     = prm.get_integer("gno_coord_dim");
      options_.in_gno_radius                     = prm.get_double("in_gno_radius");
      options_.out_gno_radius                    = prm.get_double("out_gno_radius");
      options_.gno_pos_embed_type                = prm.get("gno_pos_embed_type");
      options_.gno_embed_channels                = prm.get_integer("gno_embed_channels");
      options_.in_gno_channel_mlp_hidden_layers  = list("in_gno_channel_mlp_hidden_layers");
      options_.out_gno_channel_mlp_hidden_layers = list("out_gno_channel_mlp_hidden_layers");
      options_.in_gno_transform_type             = prm.get("in_gno_transform_type");
      options_.out_gno_transform_type            = prm.get("out_gno_transform_type");
      options_.out_gno_tanh                      = prm.get_bool("out_gno_tanh");
      options_.fno_n_modes                       = list("fno_n_modes");
      options_.fno_hidden_channels               = prm.get_integer("fno_hidden_channels");
      options_.fno_n_layers                      = prm.get_integer("fno_n_layers");
      options_.fno_lifting_channel_ratio         = prm.get_double("fno_lifting_channel_ratio");
      options_.fno_channel_mlp_expansion         = prm.get_double("fno_channel_mlp_expansion");
      options_.fno_skip                          = prm.get("fno_skip");
      options_.fno_channel_mlp_skip              = prm.get("fno_channel_mlp_skip");
      options_.fno_norm                          = prm.get("fno_norm");
      options_.projection_channels               = prm.get_integer("projection_channels");
      prm.leave_subsection();
      for (const auto &[entry, value] : {std::pair{"in_gno_radius", options_.in_gno_radius},
                                         {"out_gno_radius", options_.out_gno_radius},
                                         {"fno_lifting_channel_ratio", options_.fno_lifting_channel_ratio},
                                         {"fno_channel_mlp_expansion", options_.fno_channel_mlp_expansion}})
        if (!(value > 0.))
          throw std::invalid_argument(std::string("entry 'Surrogate/GINO/") + entry + "' must be > 0, got " +
                                      std::to_string(value));
      if (static_cast<int64_t>(options_.fno_n_modes.size()) != options_.gno_coord_dim)
        throw std::invalid_argument("entry 'Surrogate/GINO/fno_n_modes' has " +
                                    std::to_string(options_.fno_n_modes.size()) +
                                    " entries, expected gno_coord_dim = " + std::to_string(options_.gno_coord_dim));
      options_.in_channels = 1; // validated for the data's channels in point_cloud_configuration()
      try
        {
          options_.validate();
        }
      catch (const std::invalid_argument &error)
        {
          throw std::invalid_argument(std::string("subsection Surrogate/GINO: ") + error.what());
        }
    }
  } // namespace Surrogate
} // namespace mpno

MPNO_REGISTER_SURROGATE(mpno::Surrogate::GINO,
                        "gino",
                        "Geometry-informed neural operator (Li et al., NeurIPS 2023; neuraloperator's GINO) on "
                        "point clouds of varying geometry (e.g. Problem holes), its parameters in subsection GINO")
