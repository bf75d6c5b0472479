// Preconditioned CG whose convergence the true residual decides: the classical solve
// behind every Problem and every hybrid strategy (design.md "Data flow of the main job").
// deal.II headers only.
#pragma once

#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>

#include <functional>
#include <utility>

namespace mpno
{
  /**
   * A linear system A u = b as assembled by a deal.II program: the matrix with the
   * constraints already eliminated (AffineConstraints::distribute_local_to_global), the
   * right-hand side, the constraints that fix the constrained entries of u, and a
   * preconditioner for A (e.g. TrilinosWrappers::PreconditionAMG), given directly or
   * built on first use by `make_preconditioner` (so that a hybrid strategy that accepts
   * an answer without it skips the AMG setup). Non-owning: every pointer must outlive
   * the solves that use it.
   */
  struct LinearSystem
  {
    const dealii::TrilinosWrappers::SparseMatrix     *matrix         = nullptr;
    const dealii::Vector<double>                     *rhs            = nullptr;
    const dealii::AffineConstraints<double>          *constraints    = nullptr;
    const dealii::TrilinosWrappers::PreconditionBase *preconditioner = nullptr;
    /** Builds (once) and returns the preconditioner when `preconditioner` is null. */
    std::function<const dealii::TrilinosWrappers::PreconditionBase &()> make_preconditioner = nullptr;
    /**
     * Optional: a preconditioner B_0 built once for every instance on this mesh (e.g. the
     * AMG of the coefficient-1 operator A_0) and a constant C such that
     * e^T A e <= C r^T B_0 r for every vector e with zero constrained entries and r = A e
     * (e.g. C = 1 / (a_min lambda_min(B_0 A_0)) when A >= a_min A_0, B_0 symmetric
     * positive definite). Then sqrt(C r^T B_0 r) bounds the energy-norm error of any u
     * with residual r = b - A u without building the instance's preconditioner (strategy
     * `replace`); with lambda_min estimated (estimate_preconditioned_spectrum()) it is a
     * bound as far as the estimate, within the margin the problem adds, is.
     */
    const dealii::TrilinosWrappers::PreconditionBase *reference_preconditioner = nullptr;
    double                                            reference_bound          = 0;

    /** ||b - A u|| / ||b|| (0 when b = 0). @throws ExcMessage if a pointer is null or
     *  the size of @p u differs from that of b. */
    double
    relative_residual(const dealii::Vector<double> &u) const;

    /** `preconditioner`, else the one `make_preconditioner` builds.
     *  @throws ExcMessage when there is neither. */
    const dealii::TrilinosWrappers::PreconditionBase &
    get_preconditioner() const;
  };

  /**
   * Estimates of the extreme eigenvalues of B A (B the preconditioner of @p system) from
   * the Lanczos tridiagonal matrix of preconditioned CG on A x = y, y a seeded random
   * vector with zero constrained entries (deal.II's SolverCG::connect_eigenvalues_slot),
   * run until the smallest Ritz value changes by less than 1e-4 (relative) in 5
   * consecutive steps, at most @p max_iterations steps. Ritz values lie inside the
   * spectrum: the first is an upper estimate of lambda_min, the second a lower estimate of
   * lambda_max. @throws ExcMessage for a system without a preconditioner or without a
   * positive estimate.
   */
  std::pair<double, double>
  estimate_preconditioned_spectrum(const LinearSystem &system, unsigned int max_iterations = 200);

  /**
   * The constant C_0 = 1.1 / lambda_min(B_0 A_0) of a reference system (A_0 with its
   * preconditioner B_0, e.g. the coefficient-1 operator and its AMG): a problem whose
   * instances satisfy A >= c A_0 (c > 0, e.g. the coefficient's minimum) sets
   * LinearSystem::reference_bound = C_0 / c. lambda_min by
   * estimate_preconditioned_spectrum() (an upper estimate); the margin 1.1 covers its
   * error (LinearSolve.LanczosMinimumIsWithinTheMargin). @throws as that function.
   */
  double
  reference_bound_constant(const LinearSystem &reference);

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
