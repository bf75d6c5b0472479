// The built-in surrogate "fno": subsection Surrogate/FNO, an mpno::FNOOptions (dense weights).
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/patterns.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/surrogate.h>

#include <mpno/surrogate/fno.h>

#include "fno_entries.h"


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
      declare_fno_entries(prm);
      prm.leave_subsection();
    }

    void
    FNO::parse_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("FNO");
      parse_fno_entries(prm, options_, "Surrogate/FNO");
      prm.leave_subsection();
      validate_fno_options(options_, "Surrogate/FNO");
    }
  } // namespace Surrogate
} // namespace mpno

MPNO_REGISTER_SURROGATE(mpno::Surrogate::FNO,
                        "fno",
                        "Fourier neural operator (Li et al. 2021; neuraloperator's FNO), its "
                        "parameters in subsection FNO")
