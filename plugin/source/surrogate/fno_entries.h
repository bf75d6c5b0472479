// The entries an FNO-like surrogate shares (subsections Surrogate/FNO and Surrogate/TFNO).
#pragma once

#include <deal.II/base/parameter_handler.h>

#include <mpno/surrogate/fno.h>

#include <string>

namespace mpno
{
  namespace Surrogate
  {
    /** Declare n_modes, hidden_channels, ..., domain_padding_mode (an FNOOptions) in the
     *  current subsection of @p prm. */
    void
    declare_fno_entries(dealii::ParameterHandler &prm);

    /** Read the entries of declare_fno_entries() into @p options; @p subsection (e.g.
     *  "Surrogate/FNO") names the entry in errors.
     *  @throws std::invalid_argument for a value the pattern admits but the entry forbids. */
    void
    parse_fno_entries(dealii::ParameterHandler &prm, FNOOptions &options, const std::string &subsection);

    /** options.validate(), its message prefixed by "subsection @p subsection: ". */
    void
    validate_fno_options(const FNOOptions &options, const std::string &subsection);
  } // namespace Surrogate
} // namespace mpno
