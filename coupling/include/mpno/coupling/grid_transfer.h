#pragma once

#include <deal.II/base/array_view.h>
#include <deal.II/base/function.h>
#include <deal.II/base/mpi_remote_point_evaluation.h>
#include <deal.II/base/point.h>
#include <deal.II/base/smartpointer.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/field_transfer.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * Transfer of a scalar finite-element field to and from a uniform tensor grid, the
   * discretisation neural operators see (design.md "Data flow of the main job").
   *
   * The grid has n_1 x ... x n_dim points covering the box [lower, upper], boundary
   * included: x_i = lower + i (upper - lower) / (n - 1), i = 0 .. n - 1 per axis, as in
   * neuraloperator's Darcy data (linspace(0, 1, n)). Grid values are stored row-major,
   * the last axis fastest: index = ((i_1 n_2 + i_2) n_3 + i_3) ... , i.e. a tensor
   * [n_1, ..., n_dim] in LibTorch's layout. Coordinates are in the mesh's units.
   *
   * FE -> grid evaluates the FE function at the grid points:
   *  - exactly by a precomputed DoF gather (under 1 ns per point) when every grid point
   *    is a support point of the DoFHandler, e.g. Q_p on a subdivided box whose support
   *    points contain the grid (uses_support_point_gather());
   *  - otherwise by Utilities::MPI::RemotePointEvaluation with VectorTools::point_values
   *    (needs MPI initialised, one process suffices), set up once, on the first
   *    fe_to_grid() call, then 60-160 ns per point (Q1, Q2; 2D, 3D). The setup grows with
   *    the mesh (about 2.5 us per cell: 0.6 s for 512^2 cells) and with the grid points
   *    on mesh vertices (and in 3D mesh edges), for each of which deal.II 9.4 scans all
   *    cells. Points on cell boundaries get the average of the adjacent cells' values
   *    (the gather takes one of them; the same for continuous elements).
   * Grid -> FE interpolates the grid multilinearly at the DoFs' support points
   * (DoFTools::map_dofs_to_support_points), with precomputed weights (2^dim per DoF),
   * 2-5 ns per DoF. Times: one thread, Release, this project's CPU machine.
   *
   * The DoFHandler and the Mapping must outlive this object and must not change (no
   * refinement or redistribution of DoFs) after its construction. Serial meshes only
   * (the grid is not distributed). The FE must be scalar and have support points.
   * Movable, not copyable. grid_to_fe() and the gather may run in several threads at
   * once; the point-evaluation path of fe_to_grid() may not (it communicates via MPI and
   * is set up on first use).
   */
  template <int dim>
  class GridTransfer : public FieldTransfer<dim>
  {
  public:
    using FieldTransfer<dim>::n_grid_points;
    using FieldTransfer<dim>::function_to_grid;

    /**
     * Transfers between @p dof_handler and the grid of @p n_points points per axis on
     * the box [@p lower, @p upper] (default the unit cube), with @p mapping used for the
     * support points and the point location. Costs one pass over the DoFs (support
     * points, gather, interpolation weights); point evaluation is set up when needed.
     * Throws (AssertThrow, ExcMessage naming the value) if an n_points entry is below 2,
     * lower_d >= upper_d on some axis, the FE is not scalar or has no support points.
     * Grid points outside the mesh or support points outside the box do not throw
     * here, but in fe_to_grid() or grid_to_fe() respectively, so that a transfer in
     * one direction only stays possible.
     */
    GridTransfer(const dealii::Mapping<dim>          &mapping,
                 const dealii::DoFHandler<dim>       &dof_handler,
                 const std::array<unsigned int, dim> &n_points,
                 const dealii::Point<dim>            &lower = dealii::Point<dim>(),
                 const dealii::Point<dim>            &upper = unit_corner());

    /** As above, with the reference cell's default linear mapping (Q1 on quads/hexes). */
    GridTransfer(const dealii::DoFHandler<dim>       &dof_handler,
                 const std::array<unsigned int, dim> &n_points,
                 const dealii::Point<dim>            &lower = dealii::Point<dim>(),
                 const dealii::Point<dim>            &upper = unit_corner());

    ~GridTransfer() override;

    GridTransfer(GridTransfer &&) noexcept;

    /** The point (1, ..., 1), default upper corner of the box. */
    static dealii::Point<dim>
    unit_corner()
    {
      dealii::Point<dim> p;
      for (unsigned int d = 0; d < dim; ++d)
        p[d] = 1.;
      return p;
    }

    /** Number of points per axis, [n_1, ..., n_dim]. */
    const std::array<unsigned int, dim> &
    grid_shape() const override
    {
      return n_points;
    }

    std::string
    grid_description() const override
    {
      return "x_i = lower + i (upper - lower) / (n - 1) per axis, boundary included";
    }

    /** Coordinates of the grid point with row-major index @p index (< n_grid_points()). */
    dealii::Point<dim>
    grid_point(std::size_t index) const override
    {
      dealii::Point<dim> p;
      for (int d = dim - 1; d >= 0; --d)
        {
          p[d] = lower[d] + (index % n_points[d]) * (upper[d] - lower[d]) / (n_points[d] - 1);
          index /= n_points[d];
        }
      return p;
    }

    /** Size of every FE vector: the DoFHandler's number of DoFs at construction. */
    dealii::types::global_dof_index
    n_fe_dofs() const override
    {
      return n_dofs;
    }

    /** True if FE -> grid is the exact DoF gather, false if it uses point evaluation. */
    bool
    uses_support_point_gather() const
    {
      return !grid_to_dof.empty();
    }

    /**
     * Write the values of the FE function @p fe_field (size n_dofs, constraints such as
     * hanging nodes already distributed) at the grid points into @p grid_values (size
     * n_grid_points(), row-major). Throws if a size differs (the message gives expected
     * and actual sizes), if the DoFHandler's number of DoFs changed since construction,
     * if some grid points lie outside the mesh (the message names the first one), or
     * if point evaluation is needed and MPI is not initialised.
     */
    void
    fe_to_grid(const dealii::Vector<double> &fe_field, const dealii::ArrayView<float> &grid_values) const override
    {
      fe_to_grid_impl(fe_field, grid_values);
    }

    /** As above, in double precision. */
    void
    fe_to_grid(const dealii::Vector<double> &fe_field, const dealii::ArrayView<double> &grid_values) const override
    {
      fe_to_grid_impl(fe_field, grid_values);
    }

    /** As above, returning a new float array of size n_grid_points(). */
    std::vector<float>
    fe_to_grid(const dealii::Vector<double> &fe_field) const;

    /**
     * Set @p fe_field (size n_dofs) to the multilinear interpolant of @p grid_values
     * (size n_grid_points(), row-major) at every DoF's support point; second order in
     * the grid spacing for smooth data. Hanging-node DoFs get their interpolated value
     * as well; apply AffineConstraints::distribute() if the field must be conforming.
     * Throws if a size differs (expected and actual in the message), if the number of
     * DoFs changed since construction, or if a support point lies outside the box (by
     * more than 1e-10 grid spacings; the message names it).
     */
    void
    grid_to_fe(const dealii::ArrayView<const float> &grid_values, dealii::Vector<double> &fe_field) const override
    {
      grid_to_fe_impl(grid_values, fe_field);
    }

    /** As above, for double-precision grid values. */
    void
    grid_to_fe(const dealii::ArrayView<const double> &grid_values, dealii::Vector<double> &fe_field) const override
    {
      grid_to_fe_impl(grid_values, fe_field);
    }

    /**
     * The transpose of grid_to_fe(): grid value g becomes sum_i w_{i,g} v_i over the
     * DoFs i whose interpolant uses grid point g with weight w_{i,g}. Applied to a
     * residual (a dual vector, one integral against each basis function) it is the
     * Galerkin restriction of multigrid; divided pointwise by the same applied to the
     * lumped mass (the integrals of the basis functions) it is a weighted average of the
     * residual's density around each grid point. Throws as grid_to_fe().
     */
    void
    grid_to_fe_transpose(const dealii::Vector<double>    &fe_values,
                         const dealii::ArrayView<double> &grid_values) const override;

    /** The integrals of the basis functions over the mesh (QGauss(p + 1) with the
     *  mapping), size n_fe_dofs(). */
    dealii::Vector<double>
    basis_integrals() const override;

  private:
    template <typename Number>
    void
    fe_to_grid_impl(const dealii::Vector<double> &fe_field, const dealii::ArrayView<Number> &grid_values) const;

    template <typename Number>
    void
    grid_to_fe_impl(const dealii::ArrayView<const Number> &grid_values, dealii::Vector<double> &fe_field) const;

    /** Throws unless the DoFHandler is unchanged and the array sizes fit. */
    void
    check_sizes(std::size_t fe_size, std::size_t grid_size, const char *function) const;

    void
    setup_support_point_data();

    /** Set up point_evaluation if not yet done; returns fe_to_grid_error. */
    const std::string &
    setup_point_evaluation() const;

    dealii::SmartPointer<const dealii::Mapping<dim>>    mapping;
    dealii::SmartPointer<const dealii::DoFHandler<dim>> dof_handler;
    const std::array<unsigned int, dim>                 n_points;
    const dealii::Point<dim>                            lower;
    const dealii::Point<dim>                            upper;
    const dealii::types::global_dof_index               n_dofs;

    /** DoF index of each grid point (fast path), empty when a point is no support point. */
    std::vector<dealii::types::global_dof_index> grid_to_dof;
    /** General FE -> grid path, set up on first use; null on the fast path. */
    mutable std::unique_ptr<dealii::Utilities::MPI::RemotePointEvaluation<dim>> point_evaluation;
    /** Why FE -> grid is impossible (points outside the mesh); empty if possible. */
    mutable std::string fe_to_grid_error;

    /** Grid -> FE: 2^dim grid indices and weights per DoF, DoF-major. */
    std::vector<unsigned int> interpolation_indices;
    std::vector<double>       interpolation_weights;
    /** Why grid -> FE is impossible (support points outside the box); empty if possible. */
    std::string grid_to_fe_error;
  };
} // namespace mpno
