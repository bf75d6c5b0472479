#pragma once

#include <deal.II/base/array_view.h>
#include <deal.II/base/function.h>
#include <deal.II/base/point.h>
#include <deal.II/base/types.h>
#include <deal.II/lac/vector.h>

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * The transfer of a scalar finite-element field to and from the grid a neural operator
   * sees (design.md "Data flow of the main job"): the interface the framework (data
   * generation, HybridSolver) uses, whatever the mesh and the grid are.
   *
   * The grid has n_1 x ... x n_dim points, stored row-major (the last axis fastest), the
   * layout of a LibTorch tensor [n_1, ..., n_dim]. Each grid point has coordinates in
   * the grid's own chart (grid_point()): mesh coordinates for a box (GridTransfer),
   * (colatitude, longitude) in radians on the sphere (SphereTransfer). FE vectors have
   * n_fe_dofs() entries.
   *
   * Implementations: GridTransfer<dim> (a uniform box grid, multilinear interpolation)
   * and SphereTransfer (a latitude-longitude grid and a mesh of the sphere, spectrally).
   */
  template <int dim>
  class FieldTransfer
  {
  public:
    virtual ~FieldTransfer() = default;

    /** Number of points per axis, [n_1, ..., n_dim]. */
    virtual const std::array<unsigned int, dim> &
    grid_shape() const = 0;

    /** Number of grid points, n_1 * ... * n_dim: the size of every grid array. */
    std::size_t
    n_grid_points() const
    {
      std::size_t n = 1;
      for (const unsigned int n_d : grid_shape())
        n *= n_d;
      return n;
    }

    /** How the grid's points are placed, for the dataset's attributes. */
    virtual std::string
    grid_description() const = 0;

    /** The chart coordinates of the grid point with row-major index @p index. */
    virtual dealii::Point<dim>
    grid_point(std::size_t index) const = 0;

    /** Size of every FE vector. */
    virtual dealii::types::global_dof_index
    n_fe_dofs() const = 0;

    /**
     * Write the values of @p function (component @p component), a function of the grid's
     * chart coordinates, at the grid points into @p grid_values (size n_grid_points()):
     * how input fields reach the operator's grid.
     * @throws std::invalid_argument if the size differs.
     */
    template <typename Number>
    void
    function_to_grid(const dealii::Function<dim>     &function,
                     const dealii::ArrayView<Number> &grid_values,
                     const unsigned int               component = 0) const
    {
      if (grid_values.size() != n_grid_points())
        throw std::invalid_argument("FieldTransfer::function_to_grid: the grid array has " +
                                    std::to_string(grid_values.size()) + " entries, the grid " +
                                    std::to_string(n_grid_points()));
      std::vector<dealii::Point<dim>> points(n_grid_points());
      for (std::size_t i = 0; i < points.size(); ++i)
        points[i] = grid_point(i);
      std::vector<double> values(points.size());
      function.value_list(points, values, component);
      std::copy(values.begin(), values.end(), grid_values.begin());
    }

    /** The FE field @p fe_field (size n_fe_dofs()) on the grid, into @p grid_values (size
     *  n_grid_points()). @throws naming both sizes if a size differs. */
    virtual void
    fe_to_grid(const dealii::Vector<double> &fe_field, const dealii::ArrayView<float> &grid_values) const = 0;

    /** As above, in double precision. */
    virtual void
    fe_to_grid(const dealii::Vector<double> &fe_field, const dealii::ArrayView<double> &grid_values) const = 0;

    /** The FE field (size n_fe_dofs()) whose nodal values are the grid field
     *  @p grid_values reconstructed at the DoFs' support points (GridTransfer: multilinear
     *  interpolation; SphereTransfer: band-limited harmonic analysis, evaluated).
     *  @throws if a size differs. */
    virtual void
    grid_to_fe(const dealii::ArrayView<const float> &grid_values, dealii::Vector<double> &fe_field) const = 0;

    /** As above, for double-precision grid values. */
    virtual void
    grid_to_fe(const dealii::ArrayView<const double> &grid_values, dealii::Vector<double> &fe_field) const = 0;

    /**
     * The transpose of grid_to_fe() (a linear map): applied to a residual (one integral
     * against each basis function) and divided pointwise by the same applied to
     * basis_integrals(), it estimates the residual's density at each grid point (strategy
     * `preconditioner`): a local weighted average for GridTransfer, a band-limited
     * (global, signed) kernel for SphereTransfer. @throws if a size differs.
     */
    virtual void
    grid_to_fe_transpose(const dealii::Vector<double>    &fe_values,
                         const dealii::ArrayView<double> &grid_values) const = 0;

    /** The integrals of the FE basis functions over the domain (the lumped mass),
     *  size n_fe_dofs(). */
    virtual dealii::Vector<double>
    basis_integrals() const = 0;
  };
} // namespace mpno
