#include <mpno/coupling/composed_preconditioner.h>

#include <cmath>
#include <utility>

namespace mpno
{
  ComposedPreconditioner::ComposedPreconditioner(const LinearSystem &system, std::vector<Part> parts)
    : system(system)
    , parts(std::move(parts))
  {
  }

  void
  ComposedPreconditioner::vmult(dealii::Vector<double> &z, const dealii::Vector<double> &r) const
  {
    dealii::Vector<double> s = r, d(r.size()), ad(r.size());
    system.constraints->set_zero(s);
    z.reinit(r.size());
    for (std::size_t k = 0; k < parts.size(); ++k)
      {
        parts[k].apply(d, s);
        system.constraints->set_zero(d);
        const bool last = k + 1 == parts.size();
        if (last && !parts[k].energy_scaling)
          {
            z += d;
            return;
          }
        system.matrix->vmult(ad, d);
        system.constraints->set_zero(ad);
        if (parts[k].energy_scaling)
          {
            const double curvature = d * ad;
            const double alpha     = curvature > 0 && std::isfinite(curvature) ? (d * s) / curvature : 0.;
            d *= alpha;
            ad *= alpha;
          }
        z += d;
        if (!last)
          s -= ad;
      }
  }
} // namespace mpno
