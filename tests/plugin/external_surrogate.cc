// A surrogate model plugin outside libmpno_plugin, as a user would write it: built as
// a shared library and loaded through `Additional shared libraries`
// (external_plugin.prm.in). "fno_narrow" is an FNO with a fixed width of 4 channels and
// its own subsection; it includes only mpno's public plugin headers (no LibTorch).
#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/surrogate.h>

#include <string>

namespace
{
  class NarrowFNO : public mpno::Surrogate::Interface
  {
  public:
    /** Subsection `FNO narrow`: n_layers; the width is fixed. */
    static void
    declare_parameters(dealii::ParameterHandler &prm)
    {
      prm.enter_subsection("FNO narrow");
      prm.declare_entry("n_layers", "1", dealii::Patterns::Integer(1), "Number of Fourier blocks.");
      prm.declare_entry("hidden_channels", "4", dealii::Patterns::Selection("4"), "Fixed at 4.");
      prm.leave_subsection();
    }

    void
    parse_parameters(dealii::ParameterHandler &prm) override
    {
      prm.enter_subsection("FNO narrow");
      n_layers_ = prm.get_integer("n_layers");
      prm.leave_subsection();
    }

    int64_t
    spatial_dimension() const override
    {
      return 2;
    }

    std::pair<std::string, std::string>
    configuration(int64_t in_channels, int64_t out_channels) const override
    {
      return {"fno",
              "n_modes = 4, 4\nin_channels = " + std::to_string(in_channels) + "\nout_channels = " +
                std::to_string(out_channels) + "\nhidden_channels = 4\nn_layers = " + std::to_string(n_layers_) + "\n"};
    }

  private:
    long n_layers_ = 1;
  };
} // namespace

MPNO_REGISTER_SURROGATE(NarrowFNO, "fno_narrow", "an FNO 4 channels wide (a test plugin)")
