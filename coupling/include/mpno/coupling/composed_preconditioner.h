// A preconditioner composed of parts applied in turn, each to the residual the previous
// ones leave: how strategy `preconditioner` puts the neural operator and a classical part
// (AMG, Jacobi sweeps) together (HINTS, Zhang et al. 2024), and how bench_hybrid's coarse
// floor composes the best grid correction with the AMG. deal.II headers only.
#pragma once

#include <deal.II/lac/vector.h>

#include <mpno/coupling/linear_solve.h>

#include <functional>
#include <vector>

namespace mpno
{
  /**
   * z = C r for C the composition of parts C_1, ..., C_m of a preconditioner for the
   * system A u = b: z = 0, s = r (constrained entries zeroed), then for each part
   *   d = C_k s (constrained entries zeroed), z += d, s -= A d,
   * so that each part sees the residual the previous ones leave (the last part's residual
   * update is skipped). A part with `energy_scaling` has its correction d replaced by
   * alpha d, alpha = d^T s / d^T A d, the multiple of d closest to the error A^{-1} s in
   * the energy norm, so that its step never increases that error (alpha = 0 when d^T A d
   * is not positive or not finite). A part may throw; the exception passes through vmult.
   * Vectors have the size of b; non-owning: @p system must outlive it. Usable wherever
   * deal.II takes a preconditioner with vmult (e.g. SolverFlexibleCG); nonlinear when a
   * part is (a neural operator), hence flexible CG, not CG.
   */
  class ComposedPreconditioner
  {
  public:
    /** One part: d = C s, with d of the size of s (its previous values are overwritten). */
    struct Part
    {
      std::function<void(dealii::Vector<double> &d, const dealii::Vector<double> &s)> apply;
      bool                                                                            energy_scaling = false;
    };

    ComposedPreconditioner(const LinearSystem &system, std::vector<Part> parts);

    void
    vmult(dealii::Vector<double> &z, const dealii::Vector<double> &r) const;

  private:
    const LinearSystem &system;
    std::vector<Part>   parts;
  };
} // namespace mpno
