#pragma once

// The `Surrogate` plugin system: the neural operator a parameter file selects with
// `set Model = NAME` in `subsection Surrogate`. deal.II only: no LibTorch header here,
// so a user's model plugin compiles without LibTorch.

#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/registry.h>

#include <cstdint>
#include <string>
#include <utility>

namespace mpno
{
  namespace Surrogate
  {
    /**
     * A surrogate model as the parameter file describes it. A plugin also has a static
     * `declare_parameters(ParameterHandler &)` declaring its own subsection (entered
     * inside `subsection Surrogate`) and is registered with MPNO_REGISTER_SURROGATE.
     */
    class Interface
    {
    public:
      virtual ~Interface() = default;

      /** Read the plugin's entries; @p prm is inside `subsection Surrogate`.
       *  @throws std::invalid_argument naming the entry (e.g. "entry
       *  'Surrogate/FNO/n_layers' ...") for a value the pattern admits but the model
       *  forbids. */
      virtual void
      parse_parameters(dealii::ParameterHandler &prm) = 0;

      /** The number of spatial axes of the data the model works on (e.g. an FNO's number
       *  of n_modes), known before the data are read. */
      virtual int64_t
      spatial_dimension() const = 0;

      /** The model name and "key = value" configuration text that
       *  mpno::make_neural_operator() builds the model from, for data with
       *  @p in_channels input and @p out_channels output channels. */
      virtual std::pair<std::string, std::string>
      configuration(int64_t in_channels, int64_t out_channels) const = 0;

      /** Whether the model takes point clouds (one geometry per instance, e.g. GINO,
       *  method.md Sec. 4.3) rather than grids. Default: false. */
      virtual bool
      point_cloud() const
      {
        return false;
      }

      /** For a point-cloud model: the model name and configuration text for data with
       *  @p in_channels input channels at the points, @p out_channels output channels
       *  and @p latent_feature_channels geometry channels on the latent grid.
       *  @throws std::logic_error unless overridden (a grid model). */
      virtual std::pair<std::string, std::string>
      point_cloud_configuration(int64_t in_channels, int64_t out_channels, int64_t latent_feature_channels) const;
    };

    /** The registry of surrogate models (one per process, in libmpno_plugin). */
    plugin::Registry<Interface> &
    registry();
  } // namespace Surrogate
} // namespace mpno

/**
 * Register the surrogate model @p classname (derived from mpno::Surrogate::Interface,
 * default constructible, with a static declare_parameters(ParameterHandler &)) as
 * @p name with the documentation @p doc; used once, at namespace scope of its .cc.
 */
#define MPNO_REGISTER_SURROGATE(classname, name, doc)                                                              \
  namespace                                                                                                        \
  {                                                                                                                \
    const auto MPNO_PLUGIN_CONCAT(mpno_surrogate_registration_, __LINE__) =                                        \
      ::mpno::plugin::RegisterPlugin<::mpno::Surrogate::Interface>::make<classname>(::mpno::Surrogate::registry(), \
                                                                                    name,                          \
                                                                                    doc);                          \
  }
