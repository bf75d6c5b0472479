// Helpers the hybrid strategies share (not installed).
#pragma once

#include <mpno/coupling/linear_solve.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace mpno
{
  namespace HybridStrategy
  {
    /** Why @p prediction cannot start a solve of @p system: empty when it can, else
     *  "no prediction of the right size" or "the prediction has non-finite values". */
    inline std::string
    prediction_problem(const LinearSystem &system, const dealii::Vector<double> *prediction)
    {
      if (prediction == nullptr || prediction->size() != system.rhs->size())
        return "no prediction of the right size";
      for (const double v : *prediction)
        if (!std::isfinite(v))
          return "the prediction has non-finite values";
      return {};
    }

    /** r = b - A u with zero constrained entries. */
    inline void
    residual(const LinearSystem &system, const dealii::Vector<double> &u, dealii::Vector<double> &r)
    {
      r.reinit(u.size(), true);
      system.matrix->vmult(r, u);
      r.sadd(-1., 1., *system.rhs);
      system.constraints->set_zero(r);
    }

    /** sqrt(r^T B r) for the preconditioner @p B; @p r's constrained entries are zeroed. */
    inline double
    preconditioned_norm(const LinearSystem                               &system,
                        const dealii::TrilinosWrappers::PreconditionBase &B,
                        dealii::Vector<double>                            r)
    {
      system.constraints->set_zero(r);
      dealii::Vector<double> z(r.size());
      B.vmult(z, r);
      return std::sqrt(std::max(0., r * z));
    }
  } // namespace HybridStrategy
} // namespace mpno
