// The FieldTransfer between SphereSolver's FE space on the sphere mesh and a
// latitude-longitude grid (issue 6), spectrally through real spherical harmonics, and the
// chart (colatitude, longitude) in which the framework sees functions on the sphere.
// deal.II headers only.
#pragma once

#include <deal.II/base/function.h>
#include <deal.II/lac/full_matrix.h>

#include <mpno/coupling/field_transfer.h>
#include <mpno/coupling/lat_lon_grid.h>
#include <mpno/coupling/sphere.h>

namespace mpno
{
  /**
   * A function on the unit sphere, given as a dealii::Function<3> (evaluated at unit
   * vectors), seen as a function of the chart p = (theta, phi): colatitude theta in
   * [0, pi] from the north pole (0, 0, 1), longitude phi in radians from the x axis.
   * Holds a reference: @p function must outlive this object.
   */
  class FunctionOnLatLon : public dealii::Function<2>
  {
  public:
    explicit FunctionOnLatLon(const dealii::Function<3> &function)
      : function(function)
    {
    }

    /** The unit vector of the chart point @p p = (theta, phi). */
    static dealii::Point<3>
    unit_vector(const dealii::Point<2> &p);

    double
    value(const dealii::Point<2> &p, unsigned int component = 0) const override
    {
      return function.value(unit_vector(p), component);
    }

  private:
    const dealii::Function<3> &function;
  };

  /**
   * FE <-> latitude-longitude grid on the unit sphere through the real spherical
   * harmonics Y_lm of real_spherical_harmonics() (no per-point FEFieldFunction calls):
   * - fe_to_grid: the L2(S) projection coefficients c_lm = int_S u Y_lm dS, l <= lmax,
   *   by the mesh's quadrature (QGauss(p + 2), the mapping of @p solver), synthesised at
   *   the grid points;
   * - grid_to_fe: the grid's quadrature analysis (LatLonGrid::analysis) up to degree
   *   min(lmax, grid.max_exact_degree()), evaluated at the DoFs' support points;
   * - grid_to_fe_transpose: its exact transpose (a global, band-limited kernel: not a
   *   local average as GridTransfer's).
   * Each is a product with precomputed dense matrices ((lmax + 1)^2 columns), built in
   * the constructor in O((cells * quadrature points + grid points + DoFs) (lmax + 1)^2).
   * The projection's quadrature is QGauss(p + 2) plus ceil(lmax / 2^(r + 1)) points per
   * direction (r the refinements), so that it resolves Y_lmax on every cell.
   * Grid points are given in the chart of FunctionOnLatLon, (theta_k, phi_j), row-major
   * [nlat, nlon] as LatLonGrid. Nothing refers to @p solver after construction; its mesh
   * must not change while this transfer is used (the DoF numbering is baked in).
   */
  class SphereTransfer : public FieldTransfer<2>
  {
  public:
    /** @throws std::invalid_argument for lmax = 0, or when the dense tables would
     *  exceed 4 GB (naming the degree, DoFs and grid points). */
    SphereTransfer(const SphereSolver &solver, const LatLonGrid &grid, unsigned int lmax);

    const std::array<unsigned int, 2> &
    grid_shape() const override
    {
      return shape;
    }

    dealii::Point<2>
    grid_point(std::size_t index) const override;

    std::string
    grid_description() const override
    {
      return description;
    }

    dealii::types::global_dof_index
    n_fe_dofs() const override
    {
      return support_harmonics.m();
    }

    /** The degree of the projection fe_to_grid() synthesises. */
    unsigned int
    fe_to_grid_degree() const
    {
      return lmax;
    }

    /** The degree up to which grid_to_fe() analyses the grid values. */
    unsigned int
    grid_to_fe_degree() const
    {
      return lmax_grid;
    }

    void
    fe_to_grid(const dealii::Vector<double> &fe_field, const dealii::ArrayView<float> &grid_values) const override;
    void
    fe_to_grid(const dealii::Vector<double> &fe_field, const dealii::ArrayView<double> &grid_values) const override;
    void
    grid_to_fe(const dealii::ArrayView<const float> &grid_values, dealii::Vector<double> &fe_field) const override;
    void
    grid_to_fe(const dealii::ArrayView<const double> &grid_values, dealii::Vector<double> &fe_field) const override;
    void
    grid_to_fe_transpose(const dealii::Vector<double>    &fe_values,
                         const dealii::ArrayView<double> &grid_values) const override;
    dealii::Vector<double>
    basis_integrals() const override;

  private:
    template <typename Number>
    void
    fe_to_grid_impl(const dealii::Vector<double> &fe_field, const dealii::ArrayView<Number> &grid_values) const;
    template <typename Number>
    void
    grid_to_fe_impl(const dealii::ArrayView<const Number> &grid_values, dealii::Vector<double> &fe_field) const;
    void
    check_sizes(std::size_t fe_size, std::size_t grid_size, const char *function) const;

    std::array<unsigned int, 2> shape;
    std::string                 description;
    unsigned int                lmax, lmax_grid;
    std::vector<double>         colatitudes;
    /** [(lmax+1)^2, n_dofs]: int_S phi_i Y_lm dS. */
    dealii::FullMatrix<double> projection;
    /** [n_grid, (lmax+1)^2]: Y_lm at the grid points. */
    dealii::FullMatrix<double> grid_harmonics;
    /** [(lmax_grid+1)^2, n_grid]: the grid's analysis, w_k (2 pi / nlon) Y_lm(x_g). */
    dealii::FullMatrix<double> analysis;
    /** [n_dofs, (lmax_grid+1)^2]: Y_lm at the support points. */
    dealii::FullMatrix<double> support_harmonics;
  };
} // namespace mpno
