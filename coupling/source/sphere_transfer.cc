#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>

#include <mpno/coupling/sphere_transfer.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace mpno
{
  dealii::Point<3>
  FunctionOnLatLon::unit_vector(const dealii::Point<2> &p)
  {
    const double s = std::sin(p[0]);
    return {s * std::cos(p[1]), s * std::sin(p[1]), std::cos(p[0])};
  }

  namespace
  {
    /** Y_lm, l <= @p lmax, at the direction of @p p. */
    std::vector<double>
    harmonics_at(const unsigned int lmax, const dealii::Point<3> &p)
    {
      const double r = p.norm();
      return real_spherical_harmonics(lmax, p[2] / r, std::atan2(p[1], p[0]));
    }
  } // namespace

  SphereTransfer::SphereTransfer(const SphereSolver &solver, const LatLonGrid &grid, const unsigned int lmax)
    : shape{grid.n_latitudes(), grid.n_longitudes()}
    , description(grid.name() + " latitude-longitude grid [nlat, nlon]: colatitudes theta_k from the north "
                                "pole, longitudes phi_j = 2 pi j / nlon")
    , lmax(lmax)
    , lmax_grid(std::min(lmax, grid.max_exact_degree()))
  {
    if (lmax == 0)
      throw std::invalid_argument("SphereTransfer: the degree lmax must be >= 1");
    const auto &dof_handler = solver.get_dof_handler();
    const auto &fe          = dof_handler.get_fe();
    const auto  n_dofs      = dof_handler.n_dofs();
    const auto  n_low       = std::size_t(lmax_grid + 1) * (lmax_grid + 1);
    const auto  n_all       = std::size_t(lmax + 1) * (lmax + 1);
    const auto  bytes       = 8. * (double(n_all) * (n_dofs + grid.n_points()) + 2. * double(n_low) * n_dofs);
    if (bytes > 4e9)
      throw std::invalid_argument("SphereTransfer: degree " + std::to_string(lmax) + " with " + std::to_string(n_dofs) +
                                  " DoFs and " + std::to_string(grid.n_points()) + " grid points needs " +
                                  std::to_string(bytes / 1e9) +
                                  " GB of dense harmonic tables (limit 4 GB): lower the degree (entry "
                                  "'Problem/Sphere/Maximum degree'), the refinements or the grid");

    // The projection: int_S phi_i Y_lm dS on the mapped mesh. Y_lmax oscillates
    // lmax h / (2 pi) times across a cell of angular width h = pi / 2^(r + 1) (the cube
    // mesh has 4 2^r cells around a great circle): QGauss(p + 2) plus a point per half
    // of that, so that the projection does not alias for small meshes or large lmax.
    projection.reinit(n_all, n_dofs);
    const unsigned int      refinements = dof_handler.get_triangulation().n_global_levels() - 1;
    const double            width       = M_PI / std::pow(2., refinements + 1);
    const dealii::QGauss<2> quadrature(fe.degree + 2 + static_cast<unsigned int>(std::ceil(lmax * width / M_PI)));
    dealii::FEValues<2, 3>  fe_values(solver.get_mapping(),
                                     fe,
                                     quadrature,
                                     dealii::update_values | dealii::update_quadrature_points |
                                       dealii::update_JxW_values);
    std::vector<dealii::types::global_dof_index> indices(fe.n_dofs_per_cell());
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        cell->get_dof_indices(indices);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const std::vector<double> y = harmonics_at(lmax, fe_values.quadrature_point(q));
            for (unsigned int i = 0; i < indices.size(); ++i)
              {
                const double w = fe_values.shape_value(i, q) * fe_values.JxW(q);
                for (std::size_t c = 0; c < n_all; ++c)
                  projection(c, indices[i]) += w * y[c];
              }
          }
      }

    // The grid: harmonics and quadrature weights.
    const std::size_t n_grid = grid.n_points();
    grid_harmonics.reinit(n_grid, n_all);
    colatitudes.resize(shape[0]);
    for (unsigned int k = 0; k < shape[0]; ++k)
      colatitudes[k] = std::acos(std::max(-1., std::min(1., grid.cos_colatitude(k))));
    analysis.reinit(n_low, n_grid);
    for (std::size_t g = 0; g < n_grid; ++g)
      {
        const std::vector<double> y = harmonics_at(lmax, grid.point(g));
        for (std::size_t c = 0; c < n_all; ++c)
          grid_harmonics(g, c) = y[c];
        // LatLonGrid::analysis as a matrix: c_lm = sum_g w_k (2 pi / nlon) v_g Y_lm(x_g).
        const double weight = grid.latitude_weight(g / shape[1]) * 2. * M_PI / shape[1];
        for (std::size_t c = 0; c < n_low; ++c)
          analysis(c, g) = weight * y[c];
      }

    // The support points.
    std::vector<dealii::Point<3>> support_points(n_dofs);
    dealii::DoFTools::map_dofs_to_support_points(solver.get_mapping(), dof_handler, support_points);
    support_harmonics.reinit(n_dofs, n_low);
    for (dealii::types::global_dof_index i = 0; i < n_dofs; ++i)
      {
        const std::vector<double> y = harmonics_at(lmax_grid, support_points[i]);
        for (std::size_t c = 0; c < n_low; ++c)
          support_harmonics(i, c) = y[c];
      }
  }

  dealii::Point<2>
  SphereTransfer::grid_point(const std::size_t index) const
  {
    return {colatitudes.at(index / shape[1]), 2. * M_PI * double(index % shape[1]) / shape[1]};
  }

  void
  SphereTransfer::check_sizes(const std::size_t fe_size, const std::size_t grid_size, const char *function) const
  {
    if (fe_size != n_fe_dofs() || grid_size != n_grid_points())
      throw std::invalid_argument(std::string("SphereTransfer::") + function + ": expected an FE vector of " +
                                  std::to_string(n_fe_dofs()) + " entries and a grid array of " +
                                  std::to_string(n_grid_points()) + ", got " + std::to_string(fe_size) + " and " +
                                  std::to_string(grid_size));
  }

  template <typename Number>
  void
  SphereTransfer::fe_to_grid_impl(const dealii::Vector<double>    &fe_field,
                                  const dealii::ArrayView<Number> &grid_values) const
  {
    check_sizes(fe_field.size(), grid_values.size(), "fe_to_grid");
    dealii::Vector<double> c(projection.m()), g(grid_harmonics.m());
    projection.vmult(c, fe_field);
    grid_harmonics.vmult(g, c);
    std::copy(g.begin(), g.end(), grid_values.begin());
  }

  template <typename Number>
  void
  SphereTransfer::grid_to_fe_impl(const dealii::ArrayView<const Number> &grid_values,
                                  dealii::Vector<double>                &fe_field) const
  {
    check_sizes(n_fe_dofs(), grid_values.size(), "grid_to_fe");
    // c = Y_g^T W v for the first (lmax_grid + 1)^2 harmonics, then u = Y_s c.
    const dealii::Vector<double> values(grid_values.begin(), grid_values.end());
    dealii::Vector<double>       coefficients(analysis.m());
    analysis.vmult(coefficients, values);
    fe_field.reinit(n_fe_dofs());
    support_harmonics.vmult(fe_field, coefficients);
  }

  void
  SphereTransfer::fe_to_grid(const dealii::Vector<double> &fe_field, const dealii::ArrayView<float> &grid_values) const
  {
    fe_to_grid_impl(fe_field, grid_values);
  }

  void
  SphereTransfer::fe_to_grid(const dealii::Vector<double> &fe_field, const dealii::ArrayView<double> &grid_values) const
  {
    fe_to_grid_impl(fe_field, grid_values);
  }

  void
  SphereTransfer::grid_to_fe(const dealii::ArrayView<const float> &grid_values, dealii::Vector<double> &fe_field) const
  {
    grid_to_fe_impl(grid_values, fe_field);
  }

  void
  SphereTransfer::grid_to_fe(const dealii::ArrayView<const double> &grid_values, dealii::Vector<double> &fe_field) const
  {
    grid_to_fe_impl(grid_values, fe_field);
  }

  void
  SphereTransfer::grid_to_fe_transpose(const dealii::Vector<double>    &fe_values,
                                       const dealii::ArrayView<double> &grid_values) const
  {
    check_sizes(fe_values.size(), grid_values.size(), "grid_to_fe_transpose");
    // (Y_s Y_g^T W)^T = W Y_g Y_s^T.
    dealii::Vector<double> c(analysis.m()), g(analysis.n());
    support_harmonics.Tvmult(c, fe_values);
    analysis.Tvmult(g, c);
    std::copy(g.begin(), g.end(), grid_values.begin());
  }

  dealii::Vector<double>
  SphereTransfer::basis_integrals() const
  {
    // Y_00 = 1 / sqrt(4 pi): the first row of the projection times sqrt(4 pi).
    dealii::Vector<double> integrals(projection.n());
    for (std::size_t i = 0; i < integrals.size(); ++i)
      integrals[i] = projection(0, i) * std::sqrt(4. * M_PI);
    return integrals;
  }
} // namespace mpno
