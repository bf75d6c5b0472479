// A Poisson problem on the unit square minus random circular holes: the geometry changes
// from instance to instance (issue 7; the problem `holes` and the study holes_gino). deal.II
// headers only.
#pragma once

#include <deal.II/base/function.h>
#include <deal.II/base/point.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/linear_solve.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace mpno
{
  /** A circular hole: centre and radius in the units of the unit square. */
  struct Hole
  {
    dealii::Point<2> centre;
    double           radius = 0;
  };

  /** How HolesSolver meshes and random_holes() draws the geometry. */
  struct HolesParameters
  {
    /** Cells per side of the uniform mesh of [0, 1]^2 before the hole cells are removed. */
    unsigned int n_cells_per_side = 64;
    /** The number of holes is uniform in [min_holes, max_holes]. */
    unsigned int min_holes = 1;
    unsigned int max_holes = 4;
    /** Radii are uniform in [min_radius, max_radius]. */
    double min_radius = 0.05;
    double max_radius = 0.15;
    /** Least distance between two holes and between a hole and the outer boundary. */
    double gap = 0.05;
  };

  /**
   * The holes of the instance @p seed: a count uniform in [min_holes, max_holes], then
   * radius r uniform in [min_radius, max_radius] and centre uniform in [gap + r, 1 - gap -
   * r]^2, drawn from std::mt19937_64(seed) and kept when at least `gap` away from the
   * holes kept before (rejection sampling, at most 10000 draws: fewer holes when the
   * square is too full).
   * @throws dealii::ExcMessage for min_holes > max_holes, radii not 0 < min <= max, a
   *   negative gap, or min_radius + gap >= 0.5 (no centre fits).
   */
  std::vector<Hole>
  random_holes(std::uint64_t seed, const HolesParameters &parameters = HolesParameters());

  /** The signed distance of @p p to the boundary of [0, 1]^2 minus @p holes: positive in
   *  the domain, negative inside a hole (outside the square too). */
  double
  holes_signed_distance(const dealii::Point<2> &p, const std::vector<Hole> &holes);

  /** The area of [0, 1]^2 minus @p holes: 1 - sum pi r^2 (the holes do not overlap). */
  double
  holes_exact_area(const std::vector<Hole> &holes);

  /**
   * -Laplace u = f on the unit square minus circular holes, u = 0 on the outer boundary
   * (boundary id 0) and on the holes (id 1), FE_Q(1) on a uniform mesh of
   * n_cells_per_side^2 cells without the cells whose centre lies in a hole
   * (GridGenerator::create_triangulation_with_removed_cells): a hole's boundary is the
   * staircase of the removed cells, within one cell diagonal of its circle. CG +
   * Trilinos ML AMG (elliptic, Chebyshev, 2 sweeps), as DarcySolver.
   *
   * Per instance: make_geometry(holes), assemble(f), then solves of linear_system(). The
   * matrix is a serial Trilinos matrix on MPI_COMM_SELF (MPI must be initialised).
   */
  class HolesSolver
  {
  public:
    /** @throws dealii::ExcMessage for fewer than 4 cells per side. */
    explicit HolesSolver(const HolesParameters &parameters = HolesParameters());

    /**
     * Mesh the square minus @p holes, set the boundary ids, distribute the DoFs, build
     * the constraints and the sparsity pattern; invalidates the assembled system.
     * @throws dealii::ExcMessage if a hole removes every cell, or a hole boundary face
     *   lies farther than a cell diagonal from every circle.
     */
    void
    make_geometry(const std::vector<Hole> &holes);

    /** Assemble A (Laplace), b (QGauss(2) of f phi_i) and the lumped mass for the
     *  forcing @p forcing; invalidates the AMG. @throws ExcMessage before make_geometry(). */
    void
    assemble(const dealii::Function<2> &forcing);

    /** The assembled system; its AMG is built on first use (make_preconditioner). */
    LinearSystem
    linear_system() const;

    /** The current holes. */
    const std::vector<Hole> &
    get_holes() const
    {
      return holes;
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

    const dealii::Mapping<2> &
    get_mapping() const
    {
      return mapping;
    }

    /** The support point of each DoF (the mesh vertices, Q1), indexed by DoF. */
    std::vector<dealii::Point<2>>
    support_points() const;

    /** int phi_i over the domain (the diagonal of the lumped Q1 mass matrix), by DoF;
     *  valid after assemble(). */
    const dealii::Vector<double> &
    lumped_mass() const
    {
      return lumped;
    }

    const HolesParameters &
    get_parameters() const
    {
      return parameters;
    }

  private:
    HolesParameters                                                    parameters;
    std::vector<Hole>                                                  holes;
    dealii::Triangulation<2>                                           triangulation;
    dealii::FE_Q<2>                                                    fe;
    dealii::MappingQ1<2>                                               mapping;
    dealii::DoFHandler<2>                                              dof_handler;
    dealii::AffineConstraints<double>                                  constraints;
    dealii::TrilinosWrappers::SparseMatrix                             matrix;
    dealii::Vector<double>                                             rhs;
    dealii::Vector<double>                                             lumped;
    mutable std::unique_ptr<dealii::TrilinosWrappers::PreconditionAMG> amg;
    bool                                                               assembled = false;
  };
} // namespace mpno
