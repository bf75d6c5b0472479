#include <deal.II/base/exceptions.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe.h>
#include <deal.II/grid/reference_cell.h>
#include <deal.II/numerics/vector_tools_evaluate.h>
#include <deal.II/numerics/vector_tools_rhs.h>

#include <mpno/coupling/grid_transfer.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace mpno
{
  namespace
  {
    template <int dim>
    std::string
    to_string(const dealii::Point<dim> &p)
    {
      std::ostringstream s;
      s << '(' << p << ')';
      return s.str();
    }
  } // namespace

  template <int dim>
  GridTransfer<dim>::GridTransfer(const dealii::Mapping<dim>          &mapping,
                                  const dealii::DoFHandler<dim>       &dof_handler,
                                  const std::array<unsigned int, dim> &n_points,
                                  const dealii::Point<dim>            &lower,
                                  const dealii::Point<dim>            &upper)
    : mapping(&mapping)
    , dof_handler(&dof_handler)
    , n_points(n_points)
    , lower(lower)
    , upper(upper)
    , n_dofs(dof_handler.n_dofs())
  {
    for (unsigned int d = 0; d < dim; ++d)
      {
        AssertThrow(n_points[d] >= 2,
                    dealii::ExcMessage("GridTransfer: the grid needs at least 2 points per axis (they include "
                                       "the box's corners), but axis " +
                                       std::to_string(d) + " has " + std::to_string(n_points[d]) + "."));
        AssertThrow(lower[d] < upper[d],
                    dealii::ExcMessage("GridTransfer: the box needs lower < upper on every axis, but axis " +
                                       std::to_string(d) + " has lower = " + std::to_string(lower[d]) +
                                       " and upper = " + std::to_string(upper[d]) + "."));
      }
    const auto &fe = dof_handler.get_fe();
    AssertThrow(fe.n_components() == 1,
                dealii::ExcMessage("GridTransfer: the FE must be scalar, but " + fe.get_name() + " has " +
                                   std::to_string(fe.n_components()) + " components."));
    AssertThrow(fe.has_support_points(),
                dealii::ExcMessage("GridTransfer: the FE must have support points (a Lagrange element such as "
                                   "FE_Q), but " +
                                   fe.get_name() + " has none."));

    setup_support_point_data();
  }

  template <int dim>
  GridTransfer<dim>::GridTransfer(const dealii::DoFHandler<dim>       &dof_handler,
                                  const std::array<unsigned int, dim> &n_points,
                                  const dealii::Point<dim>            &lower,
                                  const dealii::Point<dim>            &upper)
    : GridTransfer(dof_handler.get_fe().reference_cell().template get_default_linear_mapping<dim>(),
                   dof_handler,
                   n_points,
                   lower,
                   upper)
  {
  }

  template <int dim>
  GridTransfer<dim>::~GridTransfer() = default;

  template <int dim>
  GridTransfer<dim>::GridTransfer(GridTransfer &&) noexcept = default;

  // One pass over the support points serves both directions: a support point within
  // 1e-8 spacings of a grid point claims it for the gather, and every support point
  // gets the multilinear weights of the grid cell containing it.
  template <int dim>
  void
  GridTransfer<dim>::setup_support_point_data()
  {
    std::vector<dealii::Point<dim>> support_points(n_dofs);
    dealii::DoFTools::map_dofs_to_support_points(*mapping, *dof_handler, support_points);

    constexpr unsigned int                       n_corners = 1u << dim;
    std::vector<dealii::types::global_dof_index> gather(n_grid_points(), dealii::numbers::invalid_dof_index);
    interpolation_indices.assign(n_dofs * n_corners, 0);
    interpolation_weights.assign(n_dofs * n_corners, 0.);
    for (dealii::types::global_dof_index dof = 0; dof < n_dofs; ++dof)
      {
        const dealii::Point<dim>     &x          = support_points[dof];
        std::size_t                   grid_index = 0;
        bool                          on_grid    = true;
        std::array<unsigned int, dim> cell;
        std::array<double, dim>       s; // position in the grid cell, [0, 1]
        for (unsigned int d = 0; d < dim; ++d)
          {
            const double t       = (x[d] - lower[d]) / (upper[d] - lower[d]) * (n_points[d] - 1);
            const double nearest = std::round(t);
            on_grid    = on_grid && std::abs(t - nearest) <= 1e-8 && nearest >= 0 && nearest <= n_points[d] - 1;
            grid_index = grid_index * n_points[d] + (on_grid ? static_cast<std::size_t>(nearest) : 0);
            if ((t < -1e-10 || t > n_points[d] - 1 + 1e-10) && grid_to_fe_error.empty())
              grid_to_fe_error = "the support point " + to_string(x) + " of DoF " + std::to_string(dof) +
                                 " lies outside the box [" + to_string(lower) + ", " + to_string(upper) + "]";
            const double t_inside = std::min(std::max(t, 0.), n_points[d] - 1.);
            cell[d]               = std::min(static_cast<unsigned int>(t_inside), n_points[d] - 2);
            s[d]                  = t_inside - cell[d];
          }
        if (on_grid)
          gather[grid_index] = dof;
        for (unsigned int c = 0; c < n_corners; ++c)
          {
            std::size_t index  = 0;
            double      weight = 1.;
            for (unsigned int d = 0; d < dim; ++d)
              {
                const unsigned int upper_side = (c >> (dim - 1 - d)) & 1u;
                index                         = index * n_points[d] + cell[d] + upper_side;
                weight *= upper_side ? s[d] : 1. - s[d];
              }
            interpolation_indices[dof * n_corners + c] = static_cast<unsigned int>(index);
            interpolation_weights[dof * n_corners + c] = weight;
          }
      }
    bool all_on_grid = true;
    for (const auto dof : gather)
      all_on_grid = all_on_grid && dof != dealii::numbers::invalid_dof_index;
    if (all_on_grid)
      grid_to_dof = std::move(gather);
  }

  template <int dim>
  const std::string &
  GridTransfer<dim>::setup_point_evaluation() const
  {
    if (point_evaluation)
      return fe_to_grid_error;
    AssertThrow(dealii::Utilities::MPI::job_supports_mpi(),
                dealii::ExcMessage("GridTransfer: the grid points are not all support points, and the point "
                                   "evaluation used then (RemotePointEvaluation) needs MPI: initialise it first "
                                   "(dealii::Utilities::MPI::MPI_InitFinalize in main())."));
    std::vector<dealii::Point<dim>> points(n_grid_points());
    for (std::size_t i = 0; i < points.size(); ++i)
      points[i] = grid_point(i);
    auto evaluation = std::make_unique<dealii::Utilities::MPI::RemotePointEvaluation<dim>>();
    evaluation->reinit(points, dof_handler->get_triangulation(), *mapping);
    for (std::size_t i = 0; i < points.size() && !evaluation->all_points_found(); ++i)
      if (!evaluation->point_found(i))
        {
          fe_to_grid_error =
            "grid point " + std::to_string(i) + " at " + to_string(points[i]) + " lies outside the mesh";
          break;
        }
    point_evaluation = std::move(evaluation);
    return fe_to_grid_error;
  }

  template <int dim>
  void
  GridTransfer<dim>::check_sizes(const std::size_t fe_size, const std::size_t grid_size, const char *function) const
  {
    const std::string where = std::string("GridTransfer::") + function + ": ";
    AssertThrow(dof_handler->n_dofs() == n_dofs,
                dealii::ExcMessage(where + "the DoFHandler had " + std::to_string(n_dofs) +
                                   " DoFs at construction but has " + std::to_string(dof_handler->n_dofs()) +
                                   " now; build a new GridTransfer."));
    AssertThrow(fe_size == n_dofs,
                dealii::ExcMessage(where + "the FE vector must have n_dofs = " + std::to_string(n_dofs) +
                                   " entries, but has " + std::to_string(fe_size) + "."));
    AssertThrow(grid_size == n_grid_points(),
                dealii::ExcMessage(where + "the grid array must have " + std::to_string(n_grid_points()) +
                                   " entries (the grid's points), but has " + std::to_string(grid_size) + "."));
  }

  template <int dim>
  template <typename Number>
  void
  GridTransfer<dim>::fe_to_grid_impl(const dealii::Vector<double>    &fe_field,
                                     const dealii::ArrayView<Number> &grid_values) const
  {
    check_sizes(fe_field.size(), grid_values.size(), "fe_to_grid");
    if (uses_support_point_gather())
      {
        for (std::size_t i = 0; i < grid_to_dof.size(); ++i)
          grid_values[i] = static_cast<Number>(fe_field[grid_to_dof[i]]);
        return;
      }
    const std::string &error = setup_point_evaluation();
    AssertThrow(error.empty(),
                dealii::ExcMessage("GridTransfer::fe_to_grid: " + error + "; every grid point must lie in the mesh."));
    const std::vector<double> values = dealii::VectorTools::point_values<1>(*point_evaluation, *dof_handler, fe_field);
    for (std::size_t i = 0; i < values.size(); ++i)
      grid_values[i] = static_cast<Number>(values[i]);
  }

  template <int dim>
  template <typename Number>
  void
  GridTransfer<dim>::grid_to_fe_impl(const dealii::ArrayView<const Number> &grid_values,
                                     dealii::Vector<double>                &fe_field) const
  {
    check_sizes(fe_field.size(), grid_values.size(), "grid_to_fe");
    AssertThrow(grid_to_fe_error.empty(),
                dealii::ExcMessage("GridTransfer::grid_to_fe: " + grid_to_fe_error +
                                   "; the grid must cover every support point."));
    constexpr unsigned int n_corners = 1u << dim;
    for (dealii::types::global_dof_index dof = 0; dof < n_dofs; ++dof)
      {
        double value = 0.;
        for (std::size_t c = dof * n_corners; c < (dof + 1) * n_corners; ++c)
          value += interpolation_weights[c] * grid_values[interpolation_indices[c]];
        fe_field[dof] = value;
      }
  }

  template <int dim>
  void
  GridTransfer<dim>::grid_to_fe_transpose(const dealii::Vector<double>    &fe_values,
                                          const dealii::ArrayView<double> &grid_values) const
  {
    check_sizes(fe_values.size(), grid_values.size(), "grid_to_fe_transpose");
    AssertThrow(grid_to_fe_error.empty(),
                dealii::ExcMessage("GridTransfer::grid_to_fe_transpose: " + grid_to_fe_error +
                                   "; the grid must cover every support point."));
    constexpr unsigned int n_corners = 1u << dim;
    std::fill(grid_values.begin(), grid_values.end(), 0.);
    for (dealii::types::global_dof_index dof = 0; dof < n_dofs; ++dof)
      for (std::size_t c = dof * n_corners; c < (dof + 1) * n_corners; ++c)
        grid_values[interpolation_indices[c]] += interpolation_weights[c] * fe_values[dof];
  }

  template <int dim>
  std::vector<float>
  GridTransfer<dim>::fe_to_grid(const dealii::Vector<double> &fe_field) const
  {
    std::vector<float> grid_values(n_grid_points());
    fe_to_grid_impl(fe_field, dealii::make_array_view(grid_values));
    return grid_values;
  }

  template <int dim>
  dealii::Vector<double>
  GridTransfer<dim>::basis_integrals() const
  {
    dealii::Vector<double> integrals(n_dofs);
    dealii::VectorTools::create_right_hand_side(*mapping,
                                                *dof_handler,
                                                dealii::QGauss<dim>(dof_handler->get_fe().degree + 1),
                                                dealii::Functions::ConstantFunction<dim>(1.),
                                                integrals);
    return integrals;
  }

  template class GridTransfer<2>;
  template class GridTransfer<3>;

  // The header's float and double overloads call these member templates.
#define MPNO_INSTANTIATE_GRID_TRANSFER(dim, Number)                                                                   \
  template void GridTransfer<dim>::fe_to_grid_impl(const dealii::Vector<double> &, const dealii::ArrayView<Number> &) \
    const;                                                                                                            \
  template void GridTransfer<dim>::grid_to_fe_impl(const dealii::ArrayView<const Number> &, dealii::Vector<double> &) \
    const;
  MPNO_INSTANTIATE_GRID_TRANSFER(2, float)
  MPNO_INSTANTIATE_GRID_TRANSFER(2, double)
  MPNO_INSTANTIATE_GRID_TRANSFER(3, float)
  MPNO_INSTANTIATE_GRID_TRANSFER(3, double)
#undef MPNO_INSTANTIATE_GRID_TRANSFER
} // namespace mpno
