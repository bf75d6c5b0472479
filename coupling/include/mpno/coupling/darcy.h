// The classical Darcy solver of the coupling library: -div(a grad u) = f on the unit
// square, u = 0 on the boundary, continuous Q_p elements, CG + Trilinos ML AMG
// (design.md "Measured facts"; deal.II tutorial steps 6 and 40). deal.II headers only.
#pragma once

#include <deal.II/base/function.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/linear_solve.h>

#include <vector>

namespace mpno
{
  /**
   * A scalar field on [0,1]^2 given by its values at the points of a uniform
   * n_1 x n_2 grid that includes the boundary: point (i, j) is
   * (x, y) = (i / (n_1 - 1), j / (n_2 - 1)) and its value is values[i * n_2 + j]
   * (row-major, the first index runs along x), i.e. the layout of a tensor
   * [n_1, n_2] whose axis d is coordinate d. Points outside the square are
   * clamped onto it.
   *
   * Two interpolations:
   * - `piecewise_constant`: the value of the nearest grid point (ties, which lie
   *   on the midlines between grid points, go to the larger index). On a mesh of
   *   n - 1 cells per side whose vertices are the grid points, each cell then
   *   carries four constant quarters, one per vertex.
   * - `bilinear`: the bilinear interpolant on each grid cell; exact for
   *   a + b x + c y + d x y.
   *
   * Throws dealii::ExcMessage when n_1 or n_2 is below 2 or values.size() is not
   * n_1 * n_2.
   */
  class GridFunction : public dealii::Function<2>
  {
  public:
    enum class Interpolation
    {
      piecewise_constant,
      bilinear
    };

    GridFunction(const unsigned int  n_1,
                 const unsigned int  n_2,
                 std::vector<double> values,
                 const Interpolation interpolation = Interpolation::piecewise_constant);

    /// The interpolated value at @p p (the only component is 0).
    double
    value(const dealii::Point<2> &p, const unsigned int component = 0) const override;

  private:
    unsigned int        n_1;
    unsigned int        n_2;
    std::vector<double> values;
    Interpolation       interpolation;
  };

  /// Discretisation and solver settings of DarcySolver.
  struct DarcyParameters
  {
    /// Cells per side of the uniform mesh; grid points with spacing 1/n are vertices.
    unsigned int n_cells_per_side = 64;
    /// Polynomial degree p of the FE_Q elements (1: bilinear Q1).
    unsigned int fe_degree = 1;
    /// CG stops when the true residual ||b - A u|| is at most this times ||b||.
    double relative_tolerance = 1e-10;
    /// CG iterations allowed per solve (all restarts together).
    unsigned int max_iterations = 1000;
  };

  /// What one DarcySolver::solve() did. Times are wall-clock seconds.
  struct DarcySolveResult
  {
    /// CG iterations, summed over restarts (0 when the initial guess already converged).
    unsigned int iterations = 0;
    /// ||b - A u_0|| / ||b|| of the initial guess after the constraints were applied.
    double initial_relative_residual = 0;
    /// ||b - A u|| / ||b|| recomputed from the returned solution (not CG's recursive one).
    double final_relative_residual = 0;
    /// The last assemble_system() and setup_amg() before this solve, and the CG itself.
    double assembly_seconds  = 0;
    double amg_setup_seconds = 0;
    double cg_seconds        = 0;
  };

  /**
   * -div(a grad u) + c u = f on [0,1]^2 (c >= 0 a constant, 0 for Darcy; HeatEquation's
   * steps use c = 1 / dt) with u = 0 on the boundary, discretised with FE_Q(p)
   * on GridGenerator::subdivided_hyper_cube(n) and solved with SolverCG preconditioned by
   * TrilinosWrappers::PreconditionAMG (ML, elliptic, Chebyshev smoother, 2 sweeps).
   *
   * One object serves many instances on the same mesh: the constructor runs
   * setup_system() once; per instance call assemble_system(a, f), setup_amg(), and
   * solve() once or several times (e.g. from zero and from a surrogate's prediction).
   * The matrix is a serial Trilinos matrix on MPI_COMM_SELF (so MPI must be
   * initialised, e.g. by dealii::Utilities::MPI::MPI_InitFinalize); each MPI rank solves
   * its own problem. Vectors are dealii::Vector<double> indexed by DoF.
   */
  class DarcySolver
  {
  public:
    /// Builds the mesh and calls setup_system(). Throws ExcMessage for n or p of 0.
    explicit DarcySolver(const DarcyParameters &parameters = DarcyParameters());

    /// Distributes DoFs, builds the Dirichlet constraints, sparsity, matrix and vectors.
    void
    setup_system();

    /**
     * Assembles A and b for coefficient @p coefficient (a, must be positive) and
     * forcing @p forcing (f) with QGauss(p + 1), eliminating the constraints as
     * AffineConstraints::distribute_local_to_global does (constrained rows and columns
     * dropped, |A_K(i, i)| added on a constrained diagonal), but from tables built once
     * per mesh: the first cell's shape functions serve every cell, and each cell's
     * entries are added at precomputed places in the Trilinos matrix's rows (10 ms
     * against 45 ms for FEValues plus distribute_local_to_global at 256^2; the test
     * DarcySolver.TableAssemblyEqualsFEValuesAssembly checks the two agree). Invalidates
     * the AMG. With
     * @p reaction c > 0 the operator is -div(a grad u) + c u (an implicit Euler step of
     * the heat equation with c = 1 / dt). @throws ExcMessage for c < 0.
     */
    void
    assemble_system(const dealii::Function<2> &coefficient,
                    const dealii::Function<2> &forcing  = dealii::Functions::ConstantFunction<2>(1.0),
                    double                     reaction = 0.);

    /// Builds the AMG hierarchy of the current matrix; reused by every later solve().
    void
    setup_amg();

    /**
     * CG + AMG from @p initial_guess (size n_dofs; its constrained entries are
     * overwritten with the boundary values) into solution(). CG stops at
     * ||r_k|| <= tol ||b||; the true residual is then recomputed, and CG restarts from
     * the current iterate while it is above tol (at most 3 runs). b = 0 gives u = 0.
     * Throws ExcMessage if setup_amg() was not called after the last assembly or the
     * size is wrong, and SolverControl::NoConvergence after max_iterations.
     */
    DarcySolveResult
    solve(const dealii::Vector<double> &initial_guess);

    /// solve() from the zero initial guess.
    DarcySolveResult
    solve();

    /// The assembled system, for solve_cg() and the hybrid strategies, valid until the
    /// next assemble_system(); its AMG (make_preconditioner) is the current one, built on
    /// first use when setup_amg() is outstanding (its time then in last_amg_setup_seconds).
    LinearSystem
    linear_system() const;

    /// ||b - A u|| / ||b|| for any DoF vector @p u (0 when b = 0).
    double
    relative_residual(const dealii::Vector<double> &u) const;

    const DarcyParameters &
    get_parameters() const
    {
      return parameters;
    }
    const dealii::Triangulation<2> &
    get_triangulation() const
    {
      return triangulation;
    }
    const dealii::FE_Q<2> &
    get_fe() const
    {
      return fe;
    }
    const dealii::DoFHandler<2> &
    get_dof_handler() const
    {
      return dof_handler;
    }
    /// The homogeneous Dirichlet constraints (the only kind the table assembly handles).
    const dealii::AffineConstraints<double> &
    get_constraints() const
    {
      return constraints;
    }
    const dealii::TrilinosWrappers::SparseMatrix &
    get_system_matrix() const
    {
      return system_matrix;
    }
    const dealii::Vector<double> &
    get_system_rhs() const
    {
      return system_rhs;
    }
    /// The last solve()'s result (zero before the first).
    const dealii::Vector<double> &
    get_solution() const
    {
      return solution;
    }
    /// The AMG of the current matrix; throws ExcMessage if setup_amg() is outstanding.
    const dealii::TrilinosWrappers::PreconditionAMG &
    get_amg() const;

    /// Wall-clock seconds of the last assemble_system() and AMG setup.
    double         last_assembly_seconds  = 0;
    mutable double last_amg_setup_seconds = 0;

  private:
    DarcyParameters                                   parameters;
    dealii::Triangulation<2>                          triangulation;
    dealii::FE_Q<2>                                   fe;
    dealii::DoFHandler<2>                             dof_handler;
    dealii::AffineConstraints<double>                 constraints;
    dealii::TrilinosWrappers::SparseMatrix            system_matrix;
    dealii::Vector<double>                            system_rhs;
    dealii::Vector<double>                            solution;
    mutable dealii::TrilinosWrappers::PreconditionAMG amg;
    mutable bool                                      amg_is_current = false;

    /**
     * The assembly tables (setup_assembly_tables()). Every cell of the subdivided square
     * is a translate of the first, so its shape values, gradients and JxW at the
     * QGauss(p + 1) points are the first cell's (what FEValues's CellSimilarity reuses):
     * per quadrature point q the stiffness table grad phi_i . grad phi_j JxW, the load
     * table phi_i JxW and the point's offset from vertex 0; the mass matrix summed over q.
     */
    std::vector<dealii::Point<2>>           quadrature_offsets;
    std::vector<dealii::FullMatrix<double>> stiffness_tables;
    std::vector<std::vector<double>>        load_tables;
    dealii::FullMatrix<double>              cell_mass_matrix;
    /// Per active cell: vertex 0, then its DoFs (dofs_per_cell each).
    std::vector<dealii::Point<2>>                cell_origins;
    std::vector<dealii::types::global_dof_index> cell_dofs;
    /**
     * Per active cell and local pair (i, j), row-major: the position of A(dof_i, dof_j)
     * in row dof_i's value array (row_values), or -1 where AffineConstraints::
     * distribute_local_to_global would add nothing (a constrained row or column, except
     * the constrained diagonal, which gets |A_K(i, i)|).
     */
    std::vector<int>      cell_entry_positions;
    std::vector<double *> row_values;

    /// Fills the tables above from the mesh, the constraints and the matrix's storage.
    void
    setup_assembly_tables();

    /// The AMG of the current matrix, built now if outstanding.
    const dealii::TrilinosWrappers::PreconditionAMG &
    amg_on_demand() const;
  };
} // namespace mpno
