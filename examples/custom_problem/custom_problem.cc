// A user's Problem plugin, built against an installed mpno: -div(a grad u) = f on the unit
// square, u = 0 on the boundary, with a smooth log-normal coefficient a = exp(sigma g),
// g a Gaussian random field. Registered as `poisson`; `mpno run custom_problem.prm` then
// generates data with it, trains a neural operator and solves with the hybrid solver.
#include <deal.II/base/function.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>
#include <deal.II/numerics/vector_tools.h>

#include <mpno/coupling/darcy.h>
#include <mpno/coupling/random_field.h>
#include <mpno/plugin/problem.h>

#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>

namespace custom
{
  using namespace dealii;

  /**
   * The problem family `poisson`: each instance draws a Gaussian random field g on the
   * grid of `Coefficient grid points` (mpno::GaussianRandomField, covariance
   * (-Laplacian + tau^2)^(-alpha)) and sets a = exp(sigma g), interpolated bilinearly
   * (mpno::GridFunction), so a is smooth and positive; f is constant.
   */
  class Poisson : public mpno::Problem::Interface<2>
  {
  public:
    Poisson()
      : dof_handler(triangulation)
    {
    }

    /** `subsection Problem/Poisson`. */
    static void
    declare_parameters(ParameterHandler &prm)
    {
      prm.enter_subsection("Poisson");
      prm.declare_entry("Cells per side", "64", Patterns::Integer(2, 4096), "Cells per side of the uniform mesh.");
      prm.declare_entry("FE degree", "1", Patterns::Integer(1, 4), "Degree p of the FE_Q(p) elements.");
      prm.declare_entry("Coefficient grid points",
                        "32",
                        Patterns::Integer(2, 4096),
                        "Points per side of the grid x_i = i / (n - 1) on which the random field "
                        "is sampled; a is its bilinear interpolant.");
      prm.declare_entry("Sigma",
                        "1",
                        Patterns::Double(0),
                        "Scale sigma of the log-coefficient: a = exp(sigma g), dimensionless.");
      prm.declare_entry("Alpha", "2.5", Patterns::Double(0), "Smoothness alpha of the field's covariance; > 0.");
      prm.declare_entry("Tau", "3", Patterns::Double(0), "Inverse length scale tau of the covariance; > 0.");
      prm.declare_entry("Forcing value", "1", Patterns::Double(), "The constant right-hand side f.");
      prm.leave_subsection();
    }

    void
    parse_parameters(ParameterHandler &prm) override
    {
      prm.enter_subsection("Poisson");
      n_cells       = prm.get_integer("Cells per side");
      fe_degree     = prm.get_integer("FE degree");
      n_points      = prm.get_integer("Coefficient grid points");
      sigma         = prm.get_double("Sigma");
      alpha         = prm.get_double("Alpha");
      tau           = prm.get_double("Tau");
      forcing_value = prm.get_double("Forcing value");
      prm.leave_subsection();
      if (!(alpha > 0 && tau > 0))
        throw std::invalid_argument("entries 'Problem/Poisson/Alpha' and 'Tau' must be > 0, got " +
                                    std::to_string(alpha) + " and " + std::to_string(tau));
    }

    /** The mesh, the DoFs, the zero Dirichlet constraints and the matrix's sparsity. */
    void
    setup() override
    {
      GridGenerator::subdivided_hyper_cube(triangulation, n_cells, 0., 1.);
      fe = std::make_unique<FE_Q<2>>(fe_degree);
      dof_handler.distribute_dofs(*fe);
      constraints.clear();
      VectorTools::interpolate_boundary_values(dof_handler, 0, Functions::ZeroFunction<2>(), constraints);
      constraints.close();
      DynamicSparsityPattern dsp(dof_handler.n_dofs());
      DoFTools::make_sparsity_pattern(dof_handler, dsp, constraints, false);
      system_matrix.reinit(complete_index_set(dof_handler.n_dofs()), dsp, MPI_COMM_SELF);
      system_rhs.reinit(dof_handler.n_dofs());
      field.emplace(n_points, alpha, tau);
      forcing = std::make_unique<Functions::ConstantFunction<2>>(forcing_value);
    }

    void
    sample(const std::uint64_t seed) override
    {
      std::vector<double> a = field->sample(seed);
      for (double &value : a)
        value = std::exp(sigma * value);
      coefficient = std::make_unique<mpno::GridFunction>(n_points,
                                                         n_points,
                                                         std::move(a),
                                                         mpno::GridFunction::Interpolation::bilinear);
    }

    std::vector<std::string>
    input_names() const override
    {
      return {"coefficient"};
    }

    const Function<2> &
    input_field(const unsigned int channel) const override
    {
      if (!coefficient || channel != 0)
        throw std::out_of_range("Problem poisson: no input channel " + std::to_string(channel) + " (yet)");
      return *coefficient;
    }

    /** The Galerkin system of the current instance (step-6) and its AMG. */
    void
    assemble() override
    {
      system_matrix = 0;
      system_rhs    = 0;
      const QGauss<2>                      quadrature(fe->degree + 1);
      FEValues<2>                          fe_values(*fe,
                            quadrature,
                            update_values | update_gradients | update_quadrature_points | update_JxW_values);
      const unsigned int                   n_dofs = fe->n_dofs_per_cell();
      FullMatrix<double>                   cell_matrix(n_dofs, n_dofs);
      Vector<double>                       cell_rhs(n_dofs);
      std::vector<double>                  a(quadrature.size()), f(quadrature.size());
      std::vector<types::global_dof_index> dof_indices(n_dofs);
      for (const auto &cell : dof_handler.active_cell_iterators())
        {
          fe_values.reinit(cell);
          coefficient->value_list(fe_values.get_quadrature_points(), a);
          forcing->value_list(fe_values.get_quadrature_points(), f);
          cell_matrix = 0;
          cell_rhs    = 0;
          for (const unsigned int q : fe_values.quadrature_point_indices())
            for (const unsigned int i : fe_values.dof_indices())
              {
                for (const unsigned int j : fe_values.dof_indices())
                  cell_matrix(i, j) +=
                    a[q] * fe_values.shape_grad(i, q) * fe_values.shape_grad(j, q) * fe_values.JxW(q);
                cell_rhs(i) += fe_values.shape_value(i, q) * f[q] * fe_values.JxW(q);
              }
          cell->get_dof_indices(dof_indices);
          constraints.distribute_local_to_global(cell_matrix, cell_rhs, dof_indices, system_matrix, system_rhs);
        }
      system_matrix.compress(VectorOperation::add);

      TrilinosWrappers::PreconditionAMG::AdditionalData data;
      data.elliptic              = true;
      data.higher_order_elements = fe->degree > 1;
      data.smoother_type         = "Chebyshev";
      data.smoother_sweeps       = 2;
      amg.initialize(system_matrix, data);
    }

    mpno::LinearSystem
    linear_system() const override
    {
      return {&system_matrix, &system_rhs, &constraints, &amg};
    }

    const DoFHandler<2> &
    get_dof_handler() const override
    {
      return dof_handler;
    }

    const Mapping<2> &
    get_mapping() const override
    {
      return mapping;
    }

    std::pair<Point<2>, Point<2>>
    bounding_box() const override
    {
      return {Point<2>(0., 0.), Point<2>(1., 1.)};
    }

    std::vector<std::pair<std::string, std::string>>
    attributes() const override
    {
      return {{"equation", "-div(exp(sigma g) grad u) = f on (0,1)^2, u = 0 on the boundary"},
              {"cells per side", std::to_string(n_cells)},
              {"sigma", std::to_string(sigma)},
              {"alpha", std::to_string(alpha)},
              {"tau", std::to_string(tau)}};
    }

  private:
    unsigned int n_cells = 64, fe_degree = 1, n_points = 32;
    double       sigma = 1., alpha = 2.5, tau = 3., forcing_value = 1.;

    Triangulation<2>                            triangulation;
    std::unique_ptr<FE_Q<2>>                    fe;
    DoFHandler<2>                               dof_handler;
    MappingQ1<2>                                mapping;
    AffineConstraints<double>                   constraints;
    TrilinosWrappers::SparseMatrix              system_matrix;
    Vector<double>                              system_rhs;
    TrilinosWrappers::PreconditionAMG           amg;
    std::optional<mpno::GaussianRandomField<2>> field;
    std::unique_ptr<Function<2>>                coefficient;
    std::unique_ptr<Function<2>>                forcing;
  };
} // namespace custom

MPNO_REGISTER_PROBLEM(2,
                      custom::Poisson,
                      "poisson",
                      "-div(a grad u) = f on the unit square, u = 0 on the boundary, a = exp(sigma g) "
                      "with g a smooth Gaussian random field (examples/custom_problem)")
