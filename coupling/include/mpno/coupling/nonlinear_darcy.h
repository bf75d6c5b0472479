// A nonlinear Darcy problem and its Newton solver, the classical side of issue 5's
// "Newton initial guess" study (benchmarks/newton_darcy.cc): -div(a(x) k(u) grad u) = f on
// the unit square, u = 0 on the boundary, k(u) = 1 + u^2 or exp(beta u). deal.II headers only.
#pragma once

#include <deal.II/base/function.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>

#include <cmath>
#include <string>
#include <vector>

namespace mpno
{
  /// The permeability's dependence on the solution, k(u).
  enum class Nonlinearity
  {
    /// k(u) = 1 + u^2 (k >= 1 at every u).
    quadratic,
    /// k(u) = exp(beta u), beta = NonlinearDarcyParameters::beta > 0.
    exponential
  };

  /// "quadratic" or "exponential".
  std::string
  to_string(Nonlinearity nonlinearity);

  /// The inverse of to_string(Nonlinearity); "exp" is accepted for "exponential".
  /// @throws std::invalid_argument for any other name.
  Nonlinearity
  nonlinearity_from_string(const std::string &name);

  /// Discretisation and Newton settings of NonlinearDarcySolver.
  struct NonlinearDarcyParameters
  {
    /// Cells per side of the uniform mesh of [0,1]^2 (Q1 elements, vertices i / n).
    unsigned int n_cells_per_side = 64;
    /// Newton stops when ||R(u)|| <= relative_tolerance ||R(0)|| (R(0) = -b, the load).
    double relative_tolerance = 1e-10;
    /// Newton steps allowed per solve.
    unsigned int max_newton_steps = 30;
    /// Halvings of the step allowed per line search before the solve counts as stagnated.
    /// 30 (steps down to 2^-30): from zero with k = exp(8 u) and f = 1e5 the first step
    /// needs 2^-12, which 10 halvings did not reach.
    unsigned int max_backtracks = 30;
    /// Armijo constant c: a step length s is accepted when ||R(u + s d)|| <= (1 - c s) ||R(u)||.
    double armijo = 1e-4;
    /// Inexact Newton: GMRES solves J d = -R to ||J d + R|| <= eta_k ||R|| with the
    /// Eisenstat-Walker (choice 2) forcing term eta_k = 0.9 (||R_k|| / ||R_{k-1}||)^2,
    /// safeguarded, at most eta_max, never below what the final tolerance needs
    /// (0.5 tol ||R(0)|| / ||R_k||). eta_max = 0 gives exact Newton (linear tolerance 1e-12).
    double eta_max = 0.1;
    /// GMRES iterations allowed per Newton step (restart length 50).
    unsigned int max_linear_iterations = 500;
    /// k(u): 1 + u^2 (the default) or exp(beta u).
    Nonlinearity nonlinearity = Nonlinearity::quadratic;
    /// The exponent's factor of k(u) = exp(beta u); must be positive (unused for quadratic).
    double beta = 1.;
  };

  /// How a NonlinearDarcySolver::solve() ended.
  enum class NewtonStatus
  {
    converged,
    max_steps,
    line_search_failed,
    non_finite,
    linear_solver_failed
  };

  /// "converged", "max steps", "line search failed", "non-finite", "linear solver failed".
  std::string
  to_string(NewtonStatus status);

  /// What one Newton solve did. Times are wall-clock seconds.
  struct NewtonResult
  {
    NewtonStatus status = NewtonStatus::max_steps;
    /// Newton steps taken (accepted updates).
    unsigned int newton_steps = 0;
    /// GMRES iterations over all steps.
    unsigned int linear_iterations = 0;
    /// Residual evaluations of the line search beyond the first trial of each step.
    unsigned int backtracks = 0;
    /// ||R(u_0)|| / ||R(0)|| of the initial guess (constraints applied).
    double initial_relative_residual = 0;
    /// ||R(u)|| / ||R(0)|| of the returned u, recomputed (the true Newton residual).
    double final_relative_residual = 0;
    /// ||R(u_k)|| / ||R(0)|| after each accepted step, u_0 first.
    std::vector<double> residual_history;
    /// The line search's step length (1, 1/2, 1/4, ...) of each accepted step.
    std::vector<double> step_lengths;
    /// Jacobian + residual assembly (line search residuals included), AMG setup, GMRES.
    double assembly_seconds  = 0;
    double amg_setup_seconds = 0;
    double linear_seconds    = 0;

    bool
    converged() const
    {
      return status == NewtonStatus::converged;
    }
    double
    total_seconds() const
    {
      return assembly_seconds + amg_setup_seconds + linear_seconds;
    }
  };

  /**
   * -div(a(x) k(u) grad u) = f on [0,1]^2, u = 0 on the boundary, with Q1 elements on
   * GridGenerator::subdivided_hyper_cube(n), QGauss(2), and (NonlinearDarcyParameters::
   * nonlinearity) either
   *  - k(u) = 1 + u^2 (the default): k >= 1 for every u, so the operator stays uniformly
   *    elliptic (a k >= a_min) at any Newton iterate, however bad, and k neither overflows
   *    nor vanishes for iterates far from the solution; the nonlinearity matters once |u| is
   *    O(1) (k = 2 at u = 1), which the caller obtains by scaling f; or
   *  - k(u) = exp(beta u), beta > 0: with f >= 0 the solution is >= 0 and k >= 1 there,
   *    but an iterate that overshoots meets an exponentially stiffer operator (k = e^10 at
   *    beta u = 10), the hard case for Newton from a start that overshoots, such as the
   *    linear (k = 1) solution; iterates with beta u beyond about 700 give non-finite
   *    residuals, which the line search rejects like any other failed trial.
   *
   * Residual (a dual vector, one entry per DoF; constrained entries 0):
   *   R(u)_i = int a k(u) grad u . grad phi_i - f phi_i,
   * Jacobian (not symmetric: the second term):
   *   J(u)_ij = int a k(u) grad phi_j . grad phi_i + a k'(u) phi_j grad u . grad phi_i.
   * Newton: J(u_k) d = -R(u_k) by SolverGMRES (right preconditioning, so it monitors the
   * unpreconditioned residual) with TrilinosWrappers::PreconditionAMG rebuilt every step
   * (ML, elliptic, Chebyshev smoother, 2 sweeps), inexact with an Eisenstat-Walker forcing
   * term (NonlinearDarcyParameters::eta_max); step length by backtracking (halving) on
   * ||R|| with the Armijo condition. Stops at ||R(u)|| <= tol ||R(0)|| (Euclidean norms of
   * the residual vectors; R(0) = -b, the discrete load).
   *
   * Note (Kirchhoff transform): with K(u) = int_0^u k = u + u^3 / 3 (quadratic) or
   * (exp(beta u) - 1) / beta (exponential), k(u) grad u = grad K(u), so the continuous
   * problem is the linear -div(a grad w) = f for w = K(u); the discrete one is not (Q1 of
   * K(u) is not K of a Q1 function), but K^{-1} of the linear solution is a cheap, very good
   * classical starting point (kirchhoff_guess()). Any k(u) of u alone has this transform.
   *
   * Serial Trilinos matrices on MPI_COMM_SELF: MPI must be initialised. Vectors are
   * dealii::Vector<double> indexed by DoF.
   */
  class NonlinearDarcySolver
  {
  public:
    /// Builds the mesh and the sparsity. @throws std::invalid_argument naming the
    /// parameter for n = 0, a tolerance or Armijo constant outside (0, 1), eta_max
    /// outside [0, 1), zero step or iteration limits, or beta <= 0 with the exponential k.
    explicit NonlinearDarcySolver(const NonlinearDarcyParameters &parameters = NonlinearDarcyParameters());

    /// Sets the coefficient a (positive; dimensionless) and the forcing f for the next
    /// solves. Both must outlive them.
    void
    set_problem(const dealii::Function<2> &coefficient, const dealii::Function<2> &forcing);

    /// k(u) (1 + u^2 or exp(beta u)) and k'(u) (2 u or beta exp(beta u)).
    double
    k(const double u) const
    {
      return parameters.nonlinearity == Nonlinearity::quadratic ? 1. + u * u : std::exp(parameters.beta * u);
    }
    double
    dk(const double u) const
    {
      return parameters.nonlinearity == Nonlinearity::quadratic ? 2. * u :
                                                                  parameters.beta * std::exp(parameters.beta * u);
    }
    /// The Kirchhoff transform K(u) = int_0^u k: u + u^3 / 3 or (exp(beta u) - 1) / beta.
    double
    kirchhoff(double u) const;

    /// R(u) into @p residual (constrained entries 0). @throws ExcMessage for wrong sizes
    /// or without set_problem().
    void
    assemble_residual(const dealii::Vector<double> &u, dealii::Vector<double> &residual) const;

    /// J(u) into jacobian() and R(u) into @p residual. Same throws.
    void
    assemble_jacobian(const dealii::Vector<double> &u, dealii::Vector<double> &residual);

    /// ||R(u)|| / ||R(0)||.
    double
    relative_residual(const dealii::Vector<double> &u) const;

    /**
     * Newton from @p u (in: the initial guess, its constrained entries set to 0; out: the
     * last iterate). A non-finite initial guess is not started from: the result is
     * non_finite with 0 steps and u unchanged. Never throws for non-convergence: the
     * status says how it ended and final_relative_residual is the true residual of u.
     * @throws ExcMessage for a wrong size or without set_problem().
     */
    NewtonResult
    solve(dealii::Vector<double> &u);

    /**
     * The linear problem's solution (k = 1): -div(a grad w) = f by CG + AMG to relative
     * residual @p tolerance into @p w. Its times are added to @p timing (assembly, AMG,
     * linear). J(0) is this operator, so Newton's first step from zero solves it too.
     * @throws SolverControl::NoConvergence as mpno::solve_cg().
     */
    unsigned int
    solve_linear(dealii::Vector<double> &w, double tolerance, NewtonResult &timing);

    /// u_i = K^{-1}(w_i) DoF by DoF (the Kirchhoff transform's inverse; kirchhoff()). For
    /// the exponential k, K's range is w > -1 / beta: lower w (never a solution's, f >= 0)
    /// are clamped to K^{-1}(-(1 - 1e-12) / beta).
    void
    kirchhoff_guess(dealii::Vector<double> &w) const;

    const NonlinearDarcyParameters &
    get_parameters() const
    {
      return parameters;
    }
    const dealii::Triangulation<2> &
    get_triangulation() const
    {
      return triangulation;
    }
    const dealii::DoFHandler<2> &
    get_dof_handler() const
    {
      return dof_handler;
    }
    const dealii::AffineConstraints<double> &
    get_constraints() const
    {
      return constraints;
    }
    /// The last assembled J(u).
    const dealii::TrilinosWrappers::SparseMatrix &
    jacobian() const
    {
      return jacobian_matrix;
    }
    /// ||R(0)|| = ||b||.
    double
    load_norm() const;

  private:
    void
    assemble(const dealii::Vector<double> &u, dealii::Vector<double> &residual, bool with_jacobian) const;

    NonlinearDarcyParameters                       parameters;
    dealii::Triangulation<2>                       triangulation;
    dealii::FE_Q<2>                                fe;
    dealii::DoFHandler<2>                          dof_handler;
    dealii::AffineConstraints<double>              constraints;
    mutable dealii::TrilinosWrappers::SparseMatrix jacobian_matrix;
    const dealii::Function<2>                     *coefficient = nullptr;
    const dealii::Function<2>                     *forcing     = nullptr;
  };
} // namespace mpno
