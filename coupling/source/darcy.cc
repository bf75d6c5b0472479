#include <mpno/coupling/darcy.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/numerics/vector_tools.h>

#include <Epetra_CrsMatrix.h>

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
    setup_assembly_tables();
  }


  void
  DarcySolver::setup_assembly_tables()
  {
    // The direct writes of assemble_system() reproduce distribute_local_to_global for
    // homogeneous constraints without entries only (the Dirichlet condition on this mesh).
    for (const auto &line : constraints.get_lines())
      AssertThrow(line.entries.empty() && line.inhomogeneity == 0.,
                  ExcMessage("DarcySolver: the table assembly handles homogeneous Dirichlet constraints only"));

    const QGauss<2>    quadrature(fe.degree + 1);
    FEValues<2>        fe_values(fe,
                          quadrature,
                          update_values | update_gradients | update_quadrature_points | update_JxW_values);
    const unsigned int dofs_per_cell = fe.n_dofs_per_cell();
    const unsigned int n_q_points    = quadrature.size();
    const auto         first         = dof_handler.begin_active();
    fe_values.reinit(first);
    quadrature_offsets.resize(n_q_points);
    stiffness_tables.assign(n_q_points, FullMatrix<double>(dofs_per_cell, dofs_per_cell));
    load_tables.assign(n_q_points, std::vector<double>(dofs_per_cell));
    cell_mass_matrix.reinit(dofs_per_cell, dofs_per_cell);
    for (unsigned int q = 0; q < n_q_points; ++q)
      {
        quadrature_offsets[q] = Point<2>(fe_values.quadrature_point(q) - first->vertex(0));
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          {
            load_tables[q][i] = fe_values.shape_value(i, q) * fe_values.JxW(q);
            for (unsigned int j = 0; j < dofs_per_cell; ++j)
              {
                stiffness_tables[q](i, j) = fe_values.shape_grad(i, q) * fe_values.shape_grad(j, q) * fe_values.JxW(q);
                cell_mass_matrix(i, j) += fe_values.shape_value(i, q) * fe_values.shape_value(j, q) * fe_values.JxW(q);
              }
          }
      }

    // Each row's value array in the (serial, filled) Epetra matrix, and per cell the place
    // of each local entry in it.
    // Writing through the const matrix is Epetra's in-place update of a filled matrix; the
    // views stay valid until system_matrix is re-initialised, which only setup_system()
    // does, and it calls this function again.
    const Epetra_CrsMatrix &matrix = system_matrix.trilinos_matrix();
    AssertThrow(matrix.Filled(), ExcMessage("DarcySolver: the system matrix must be filled before the table assembly"));
    row_values.assign(dof_handler.n_dofs(), nullptr);
    std::vector<int *> row_columns(dof_handler.n_dofs());
    std::vector<int>   row_lengths(dof_handler.n_dofs());
    for (types::global_dof_index row = 0; row < dof_handler.n_dofs(); ++row)
      AssertThrow(matrix.ExtractMyRowView(matrix.LRID(static_cast<int>(row)),
                                          row_lengths[row],
                                          row_values[row],
                                          row_columns[row]) == 0,
                  ExcMessage("DarcySolver: no view of row " + std::to_string(row) + " of the system matrix"));

    const auto n_cells = triangulation.n_active_cells();
    cell_origins.clear();
    cell_origins.reserve(n_cells);
    cell_dofs.resize(n_cells * dofs_per_cell);
    cell_entry_positions.assign(n_cells * dofs_per_cell * dofs_per_cell, -1);
    std::vector<types::global_dof_index> dof_indices(dofs_per_cell);
    std::size_t                          c = 0;
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        AssertThrow(((cell->center() - cell->vertex(0)) - (first->center() - first->vertex(0))).norm() <=
                        1e-12 * first->diameter() &&
                      std::abs(cell->measure() - first->measure()) <= 1e-12 * first->measure(),
                    ExcMessage("DarcySolver: the table assembly needs cells that are translates of each other"));
        cell_origins.push_back(cell->vertex(0));
        cell->get_dof_indices(dof_indices);
        std::copy(dof_indices.begin(), dof_indices.end(), cell_dofs.begin() + c * dofs_per_cell);
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          for (unsigned int j = 0; j < dofs_per_cell; ++j)
            {
              const auto row = dof_indices[i], column = dof_indices[j];
              const bool kept = constraints.is_constrained(row) ? i == j : !constraints.is_constrained(column);
              if (!kept)
                continue;
              const int  local_column = matrix.LCID(static_cast<int>(column));
              const int *begin = row_columns[row], *end = begin + row_lengths[row];
              const int *place = std::find(begin, end, local_column);
              AssertThrow(place != end,
                          ExcMessage("DarcySolver: entry (" + std::to_string(row) + ", " + std::to_string(column) +
                                     ") is missing from the sparsity pattern"));
              cell_entry_positions[(c * dofs_per_cell + i) * dofs_per_cell + j] = static_cast<int>(place - begin);
            }
        ++c;
      }
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

    const unsigned int    dofs_per_cell = fe.n_dofs_per_cell();
    const unsigned int    n_q_points    = quadrature_offsets.size();
    FullMatrix<double>    cell_matrix(dofs_per_cell, dofs_per_cell);
    std::vector<Point<2>> points(n_q_points);
    std::vector<double>   a_values(n_q_points), f_values(n_q_points);

    for (std::size_t c = 0; c < cell_origins.size(); ++c)
      {
        for (unsigned int q = 0; q < n_q_points; ++q)
          points[q] = cell_origins[c] + quadrature_offsets[q];
        coefficient.value_list(points, a_values);
        forcing.value_list(points, f_values);
        if (reaction != 0.) // the mass term, only where it is wanted (Darcy: none)
          cell_matrix.equ(reaction, cell_mass_matrix);
        else
          cell_matrix = 0;
        for (unsigned int q = 0; q < n_q_points; ++q)
          cell_matrix.add(a_values[q], stiffness_tables[q]);

        const types::global_dof_index *dofs      = &cell_dofs[c * dofs_per_cell];
        const int                     *positions = &cell_entry_positions[c * dofs_per_cell * dofs_per_cell];
        for (unsigned int i = 0; i < dofs_per_cell; ++i)
          {
            double *const row = row_values[dofs[i]];
            if (constraints.is_constrained(dofs[i]))
              {
                // distribute_local_to_global's diagonal for a constrained DoF
                double diagonal = std::abs(cell_matrix(i, i));
                if (diagonal == 0.)
                  {
                    for (unsigned int k = 0; k < dofs_per_cell; ++k)
                      diagonal += std::abs(cell_matrix(k, k)) / dofs_per_cell;
                    if (diagonal == 0.)
                      diagonal = cell_matrix.l1_norm() / dofs_per_cell;
                    if (diagonal == 0.)
                      diagonal = 1.;
                  }
                row[positions[i * dofs_per_cell + i]] += diagonal;
                continue;
              }
            double load = 0;
            for (unsigned int q = 0; q < n_q_points; ++q)
              load += f_values[q] * load_tables[q][i];
            system_rhs[dofs[i]] += load;
            for (unsigned int j = 0; j < dofs_per_cell; ++j)
              if (positions[i * dofs_per_cell + j] >= 0)
                row[positions[i * dofs_per_cell + j]] += cell_matrix(i, j);
          }
      }
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
