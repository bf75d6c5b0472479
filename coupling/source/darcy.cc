#include <mpno/coupling/darcy.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/numerics/vector_tools.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

namespace mpno
{
  using namespace dealii;

  namespace
  {
    double
    seconds_since(const std::chrono::steady_clock::time_point start)
    {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    const DarcyParameters &
    checked(const DarcyParameters &parameters)
    {
      AssertThrow(parameters.n_cells_per_side > 0 && parameters.fe_degree > 0,
                  ExcMessage("DarcySolver needs at least one cell per side and degree >= 1, got n = " +
                             std::to_string(parameters.n_cells_per_side) +
                             ", degree = " + std::to_string(parameters.fe_degree)));
      AssertThrow(parameters.relative_tolerance > 0,
                  ExcMessage("DarcySolver: relative tolerance must be positive, got " +
                             std::to_string(parameters.relative_tolerance)));
      return parameters;
    }
  } // namespace


  GridFunction::GridFunction(const unsigned int  n_1,
                             const unsigned int  n_2,
                             std::vector<double> values,
                             const Interpolation interpolation)
    : Function<2>(1)
    , n_1(n_1)
    , n_2(n_2)
    , values(std::move(values))
    , interpolation(interpolation)
  {
    AssertThrow(n_1 >= 2 && n_2 >= 2,
                ExcMessage("GridFunction needs at least 2 x 2 grid points, got " + std::to_string(n_1) + " x " +
                           std::to_string(n_2)));
    AssertThrow(this->values.size() == std::size_t(n_1) * n_2,
                ExcMessage("GridFunction: " + std::to_string(this->values.size()) + " values given for a " +
                           std::to_string(n_1) + " x " + std::to_string(n_2) + " grid"));
  }


  double
  GridFunction::value(const Point<2> &p, const unsigned int /*component*/) const
  {
    // Position in grid units, clamped onto the square.
    const double s = std::clamp(p[0], 0.0, 1.0) * (n_1 - 1);
    const double t = std::clamp(p[1], 0.0, 1.0) * (n_2 - 1);
    if (interpolation == Interpolation::piecewise_constant)
      {
        const auto i = static_cast<unsigned int>(std::floor(s + 0.5));
        const auto j = static_cast<unsigned int>(std::floor(t + 0.5));
        return values[std::size_t(i) * n_2 + j];
      }
    // Lower-left corner of the grid cell; the last cell also owns the upper boundary.
    const unsigned int i  = std::min(static_cast<unsigned int>(s), n_1 - 2);
    const unsigned int j  = std::min(static_cast<unsigned int>(t), n_2 - 2);
    const double       ds = s - i, dt = t - j;
    const auto         v = [&](const unsigned int k, const unsigned int l) { return values[std::size_t(k) * n_2 + l]; };
    return (1 - ds) * ((1 - dt) * v(i, j) + dt * v(i, j + 1)) + ds * ((1 - dt) * v(i + 1, j) + dt * v(i + 1, j + 1));
  }


  DarcySolver::DarcySolver(const DarcyParameters &parameters)
    : parameters(checked(parameters))
    , fe(parameters.fe_degree)
    , dof_handler(triangulation)
  {
    GridGenerator::subdivided_hyper_cube(triangulation, parameters.n_cells_per_side, 0.0, 1.0);
    setup_system();
  }


  void
  DarcySolver::setup_system()
  {
    dof_handler.distribute_dofs(fe);

    constraints.clear();
    DoFTools::make_hanging_node_constraints(dof_handler, constraints);
    VectorTools::interpolate_boundary_values(dof_handler, 0, Functions::ZeroFunction<2>(), constraints);
    constraints.close();

    DynamicSparsityPattern dsp(dof_handler.n_dofs());
    DoFTools::make_sparsity_pattern(dof_handler, dsp, constraints, /*keep_constrained_dofs=*/false);
    system_matrix.reinit(complete_index_set(dof_handler.n_dofs()), dsp, MPI_COMM_SELF);

    system_rhs.reinit(dof_handler.n_dofs());
    solution.reinit(dof_handler.n_dofs());
    amg_is_current = false;
  }


  void
  DarcySolver::assemble_system(const Function<2> &coefficient, const Function<2> &forcing, const double reaction)
  {
    AssertThrow(reaction >= 0,
                ExcMessage("DarcySolver::assemble_system: the reaction coefficient must be >= 0, got " +
                           std::to_string(reaction)));
    const auto start = std::chrono::steady_clock::now();
    system_matrix    = 0;
    system_rhs       = 0;

    const QGauss<2>    quadrature(fe.degree + 1);
    FEValues<2>        fe_values(fe,
                          quadrature,
                          update_values | update_gradients | update_quadrature_points | update_JxW_values);
    const unsigned int dofs_per_cell = fe.n_dofs_per_cell();
    const unsigned int n_q_points    = quadrature.size();

    FullMatrix<double>                   cell_matrix(dofs_per_cell, dofs_per_cell);
    Vector<double>                       cell_rhs(dofs_per_cell);
    std::vector<double>                  a_values(n_q_points), f_values(n_q_points);
    std::vector<types::global_dof_index> dof_indices(dofs_per_cell);

    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        coefficient.value_list(fe_values.get_quadrature_points(), a_values);
        forcing.value_list(fe_values.get_quadrature_points(), f_values);
        cell_matrix = 0;
        cell_rhs    = 0;
        for (unsigned int q = 0; q < n_q_points; ++q)
          for (unsigned int i = 0; i < dofs_per_cell; ++i)
            {
              const Tensor<1, 2> a_grad_phi_i = a_values[q] * fe_values.shape_grad(i, q);
              for (unsigned int j = 0; j < dofs_per_cell; ++j)
                cell_matrix(i, j) += a_grad_phi_i * fe_values.shape_grad(j, q) * fe_values.JxW(q);
              if (reaction != 0.) // the mass term, only where it is wanted (Darcy: none)
                for (unsigned int j = 0; j < dofs_per_cell; ++j)
                  cell_matrix(i, j) +=
                    reaction * fe_values.shape_value(i, q) * fe_values.shape_value(j, q) * fe_values.JxW(q);
              cell_rhs(i) += fe_values.shape_value(i, q) * f_values[q] * fe_values.JxW(q);
            }
        cell->get_dof_indices(dof_indices);
        constraints.distribute_local_to_global(cell_matrix, cell_rhs, dof_indices, system_matrix, system_rhs);
      }
    system_matrix.compress(VectorOperation::add);
    amg_is_current        = false;
    last_assembly_seconds = seconds_since(start);
  }


  void
  DarcySolver::setup_amg()
  {
    amg_is_current = false;
    amg_on_demand();
  }


  const TrilinosWrappers::PreconditionAMG &
  DarcySolver::amg_on_demand() const
  {
    if (amg_is_current)
      return amg;
    const auto                                        start = std::chrono::steady_clock::now();
    TrilinosWrappers::PreconditionAMG::AdditionalData data;
    data.elliptic              = true;
    data.higher_order_elements = fe.degree > 1;
    data.smoother_type         = "Chebyshev";
    data.smoother_sweeps       = 2;
    amg.initialize(system_matrix, data);
    amg_is_current         = true;
    last_amg_setup_seconds = seconds_since(start);
    return amg;
  }


  const TrilinosWrappers::PreconditionAMG &
  DarcySolver::get_amg() const
  {
    AssertThrow(amg_is_current, ExcMessage("DarcySolver: call setup_amg() after assemble_system()"));
    return amg;
  }


  double
  DarcySolver::relative_residual(const Vector<double> &u) const
  {
    return LinearSystem{&system_matrix, &system_rhs, &constraints, nullptr}.relative_residual(u);
  }


  DarcySolveResult
  DarcySolver::solve()
  {
    return solve(Vector<double>(dof_handler.n_dofs()));
  }


  DarcySolveResult
  DarcySolver::solve(const Vector<double> &initial_guess)
  {
    AssertThrow(initial_guess.size() == dof_handler.n_dofs(),
                ExcMessage("DarcySolver::solve: initial guess has " + std::to_string(initial_guess.size()) +
                           " entries, the FE space " + std::to_string(dof_handler.n_dofs())));
    get_amg(); // throws if setup_amg() is outstanding

    DarcySolveResult result;
    result.assembly_seconds  = last_assembly_seconds;
    result.amg_setup_seconds = last_amg_setup_seconds;

    solution = initial_guess;
    KrylovSettings settings;
    settings.relative_tolerance = parameters.relative_tolerance;
    settings.max_iterations     = parameters.max_iterations;
    const KrylovResult krylov   = solve_cg(linear_system(), solution, settings);

    result.iterations                = krylov.iterations;
    result.initial_relative_residual = krylov.initial_relative_residual;
    result.final_relative_residual   = krylov.final_relative_residual;
    result.cg_seconds                = krylov.seconds;
    return result;
  }


  LinearSystem
  DarcySolver::linear_system() const
  {
    // No pointer to the current AMG: a copy of the system that outlives the next assembly
    // must not keep the old hierarchy; amg_on_demand() caches it.
    LinearSystem system{&system_matrix, &system_rhs, &constraints, nullptr};
    system.make_preconditioner = [this]() -> const TrilinosWrappers::PreconditionBase & { return amg_on_demand(); };
    return system;
  }
} // namespace mpno
