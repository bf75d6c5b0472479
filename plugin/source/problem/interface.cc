#include <deal.II/base/function.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/numerics/vector_tools_integrate_difference.h>
#include <deal.II/numerics/vector_tools_rhs.h>

#include <mpno/coupling/grid_transfer.h>
#include <mpno/plugin/problem.h>

#include "../solution_output.h"

#include <stdexcept>

namespace mpno
{
  namespace Problem
  {
    namespace
    {
      [[noreturn]] void
      not_a_box_problem(const char *function)
      {
        throw std::logic_error(std::string("Problem::Interface::") + function +
                               ": this problem's mesh is not a DoFHandler<dim> on a box; use "
                               "make_field_transfer(), n_dofs(), l2_norm() and solution_vtu()");
      }
    } // namespace

    template <int dim>
    const dealii::DoFHandler<dim> &
    Interface<dim>::get_dof_handler() const
    {
      not_a_box_problem("get_dof_handler");
    }

    template <int dim>
    const dealii::Mapping<dim> &
    Interface<dim>::get_mapping() const
    {
      not_a_box_problem("get_mapping");
    }

    template <int dim>
    std::pair<dealii::Point<dim>, dealii::Point<dim>>
    Interface<dim>::bounding_box() const
    {
      not_a_box_problem("bounding_box");
    }

    template <int dim>
    std::unique_ptr<FieldTransfer<dim>>
    Interface<dim>::make_field_transfer(const unsigned int grid_points) const
    {
      std::array<unsigned int, dim> n;
      n.fill(grid_points);
      const auto [lower, upper] = bounding_box();
      return std::make_unique<GridTransfer<dim>>(get_mapping(), get_dof_handler(), n, lower, upper);
    }

    template <int dim>
    dealii::types::global_dof_index
    Interface<dim>::n_dofs() const
    {
      return get_dof_handler().n_dofs();
    }

    template <int dim>
    double
    Interface<dim>::l2_norm(const dealii::Vector<double> &u) const
    {
      const dealii::DoFHandler<dim> &dof_handler = get_dof_handler();
      dealii::Vector<float>          cellwise(dof_handler.get_triangulation().n_active_cells());
      dealii::VectorTools::integrate_difference(get_mapping(),
                                                dof_handler,
                                                u,
                                                dealii::Functions::ZeroFunction<dim>(),
                                                cellwise,
                                                dealii::QGauss<dim>(dof_handler.get_fe().degree + 1),
                                                dealii::VectorTools::L2_norm);
      return dealii::VectorTools::compute_global_error(dof_handler.get_triangulation(),
                                                       cellwise,
                                                       dealii::VectorTools::L2_norm);
    }

    template <int dim>
    std::string
    Interface<dim>::solution_vtu(const dealii::Vector<double> &solution, const dealii::Vector<double> &prediction) const
    {
      return plugin::solution_vtu_document<dim, dim>(
        get_dof_handler(),
        input_names(),
        [this](const unsigned int c, const dealii::Point<dim> &p) { return input_field(c).value(p); },
        output_name(),
        solution,
        prediction);
    }

    template <int dim>
    NonlinearSolveReport
    Interface<dim>::classical_start(dealii::Vector<double> &)
    {
      throw std::logic_error("Problem::Interface::classical_start: the problem is linear (is_nonlinear() is false)");
    }

    template <int dim>
    NonlinearSolveReport
    Interface<dim>::solve_nonlinear(dealii::Vector<double> &)
    {
      throw std::logic_error("Problem::Interface::solve_nonlinear: the problem is linear (is_nonlinear() is false)");
    }

    template <int dim>
    std::vector<dealii::Point<dim>>
    Interface<dim>::support_points() const
    {
      std::vector<dealii::Point<dim>> points(get_dof_handler().n_dofs());
      dealii::DoFTools::map_dofs_to_support_points(get_mapping(), get_dof_handler(), points);
      return points;
    }

    template <int dim>
    dealii::Vector<double>
    Interface<dim>::basis_integrals() const
    {
      const dealii::DoFHandler<dim> &dof_handler = get_dof_handler();
      dealii::Vector<double>         integrals(dof_handler.n_dofs());
      dealii::VectorTools::create_right_hand_side(get_mapping(),
                                                  dof_handler,
                                                  dealii::QGauss<dim>(dof_handler.get_fe().degree + 1),
                                                  dealii::Functions::ConstantFunction<dim>(1.),
                                                  integrals);
      return integrals;
    }

    template <int dim>
    std::vector<double>
    Interface<dim>::signed_distance(const std::vector<dealii::Point<dim>> &) const
    {
      throw std::logic_error("Problem::Interface::signed_distance: this problem does not describe its geometry "
                             "(override it in a problem whose geometry_varies())");
    }

    template <int dim>
    plugin::Registry<Interface<dim>> &
    registry()
    {
      // Function-local: constructed on first use, whichever registration comes first.
      static plugin::Registry<Interface<dim>> instance;
      return instance;
    }

    template class Interface<2>;
    template class Interface<3>;

    template plugin::Registry<Interface<2>> &
    registry<2>();
    template plugin::Registry<Interface<3>> &
    registry<3>();
  } // namespace Problem
} // namespace mpno
