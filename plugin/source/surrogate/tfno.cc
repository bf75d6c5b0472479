// The built-in surrogate "tfno": an FNO with factorized spectral weights (Kossaifi et al.
// 2023; neuraloperator's TFNO), subsection Surrogate/TFNO, an mpno::FNOOptions with a
// factorization. Checkpoints record the model as "tfno" with its factorization, rank and
// implementation in the configuration text, so they rebuild without the parameter file.
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/patterns.h>

#include <mpno/plugin/surrogate.h>

#include <mpno/surrogate/fno.h>

#include "fno_entries.h"

#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace Surrogate
  {
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    /** Tensorized Fourier neural operator: the FNO entries plus factorization, rank and
     *  implementation (method.md Sec. 2.2). */
    class TFNO : public Interface
    {
    public:
      /** Declare subsection TFNO (inside subsection Surrogate). */
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

      /** ("tfno", FNOOptions::to_text()) with the given channels. */
      std::pair<std::string, std::string>
      configuration(int64_t in_channels, int64_t out_channels) const override
      {
        FNOOptions options   = options_;
        options.in_channels  = in_channels;
        options.out_channels = out_channels;
        return {"tfno", options.to_text()};
      }

    private:
      FNOOptions options_;
    };

    void
    TFNO::declare_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("TFNO");
      declare_fno_entries(prm);
      prm.declare_entry("factorization",
                        "tucker",
                        Patterns::Selection("tucker|cp|tt"),
                        "Decomposition of each spectral weight [in, out, modes]: tucker (core and one "
                        "factor per axis), cp (canonical polyadic) or tt (tensor train).");
      prm.declare_entry("rank",
                        "0.05",
                        Patterns::Double(0),
                        "Size of the factors as a fraction of the dense weight's parameter count "
                        "(neuraloperator's float rank, e.g. 0.05 for 5%); must be > 0.");
      prm.declare_entry("implementation",
                        "factorized",
                        Patterns::Selection("factorized|reconstructed"),
                        "factorized contracts the input with the factors in the planned order; "
                        "reconstructed rebuilds the dense weight at every call.");
      prm.leave_subsection();
    }

    void
    TFNO::parse_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("TFNO");
      parse_fno_entries(prm, options_, "Surrogate/TFNO");
      options_.factorization  = prm.get("factorization");
      options_.rank           = prm.get_double("rank");
      options_.implementation = prm.get("implementation");
      prm.leave_subsection();
      if (!(options_.rank > 0.))
        {
          std::ostringstream out;
          out << "entry 'Surrogate/TFNO/rank' must be > 0, got " << options_.rank;
          throw std::invalid_argument(out.str());
        }
      validate_fno_options(options_, "Surrogate/TFNO");
    }
  } // namespace Surrogate
} // namespace mpno

MPNO_REGISTER_SURROGATE(mpno::Surrogate::TFNO,
                        "tfno",
                        "Tensorized Fourier neural operator (an FNO with Tucker, CP or tensor-train "
                        "factorized spectral weights; neuraloperator's TFNO), its parameters in "
                        "subsection TFNO")
