// Preconditioned CG whose convergence the true residual decides: the classical solve
// behind every Problem and every hybrid strategy (design.md "Data flow of the main job").
// deal.II headers only.
#pragma once

#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>

namespace mpno
{
  /**
   * A linear system A u = b as assembled by a deal.II program: the matrix with the
   * constraints already eliminated (AffineConstraints::distribute_local_to_global), the
   * right-hand side, the constraints that fix the constrained entries of u, and a
   * preconditioner for A (e.g. TrilinosWrappers::PreconditionAMG). Non-owning: every
   * pointer must outlive the solves that use it.
   */
  struct LinearSystem
  {
    const dealii::TrilinosWrappers::SparseMatrix     *matrix         = nullptr;
    const dealii::Vector<double>                     *rhs            = nullptr;
    const dealii::AffineConstraints<double>          *constraints    = nullptr;
    const dealii::TrilinosWrappers::PreconditionBase *preconditioner = nullptr;

    /** ||b - A u|| / ||b|| (0 when b = 0). @throws ExcMessage if a pointer is null or
     *  the size of @p u differs from that of b. */
    double
    relative_residual(const dealii::Vector<double> &u) const;
  };

  /** Settings of solve_cg(). */
  struct KrylovSettings
  {
    /** Stop when the true residual ||b - A u|| is at most this times ||b||. */
    double relative_tolerance = 1e-10;
    /** CG iterations allowed, all restarts together. */
    unsigned int max_iterations = 1000;
    /** CG runs from the current iterate while the true residual is above the tolerance. */
    unsigned int max_restarts = 3;
  };

  /** What one solve_cg() did. Times are wall-clock seconds. */
  struct KrylovResult
  {
    /** CG iterations, summed over restarts (0 when the initial guess already converged). */
    unsigned int iterations = 0;
    /** ||b - A u_0|| / ||b|| of the initial guess after the constraints were applied. */
    double initial_relative_residual = 0;
    /** ||b - A u|| / ||b|| recomputed from the returned u (not CG's recursive residual). */
    double final_relative_residual = 0;
    /** True when the final relative residual is at most the tolerance (always, for a
     *  result solve_cg() returns). */
    bool converged = false;
    /** Wall-clock seconds of the CG runs and residual checks. */
    double seconds = 0;
  };

  /**
   * Solve @p system by CG with its preconditioner, starting from @p solution (the
   * initial guess; its constrained entries are overwritten by the constraints). CG stops
   * at ||r_k|| <= tol ||b||; the true residual is then recomputed, and CG restarts from
   * the iterate while it is above tol (CG's recursive residual may drift from the true
   * one near tight tolerances). b = 0 gives u = 0. A non-finite initial guess is
   * replaced by zero.
   * @throws dealii::ExcMessage for null pointers or sizes that differ from b's;
   *   dealii::SolverControl::NoConvergence (last_step: the iterations, last_residual: the
   *   true relative residual) when max_iterations are spent or the true residual is still
   *   above the tolerance (or not finite) after max_restarts runs: a returned solution
   *   always meets the tolerance.
   */
  KrylovResult
  solve_cg(const LinearSystem &system, dealii::Vector<double> &solution, const KrylovSettings &settings);
} // namespace mpno
