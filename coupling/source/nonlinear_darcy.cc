#include <mpno/coupling/linear_solve.h>
#include <mpno/coupling/nonlinear_darcy.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/solver_gmres.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/numerics/vector_tools.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
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

    const NonlinearDarcyParameters &
    checked(const NonlinearDarcyParameters &p)
    {
      const auto fail = [](const std::string &name, const double value) {
        throw std::invalid_argument("NonlinearDarcySolver: " + name + " out of range, got " + std::to_string(value));
      };
      if (p.n_cells_per_side == 0)
        fail("n_cells_per_side", p.n_cells_per_side);
      if (!(p.relative_tolerance > 0 && p.relative_tolerance < 1))
        fail("relative_tolerance", p.relative_tolerance);
      if (!(p.armijo > 0 && p.armijo < 1))
        fail("armijo", p.armijo);
      if (!(p.eta_max >= 0 && p.eta_max < 1))
        fail("eta_max", p.eta_max);
      if (p.max_newton_steps == 0)
        fail("max_newton_steps", p.max_newton_steps);
      if (p.max_linear_iterations == 0)
        fail("max_linear_iterations", p.max_linear_iterations);
      if (p.nonlinearity == Nonlinearity::exponential && !(p.beta > 0 && std::isfinite(p.beta)))
        fail("beta", p.beta);
      return p;
    }

    bool
    all_finite(const Vector<double> &v)
    {
      return std::all_of(v.begin(), v.end(), [](const double x) { return std::isfinite(x); });
    }
  } // namespace


  std::string
  to_string(const NewtonStatus status)
  {
    switch (status)
      {
        case NewtonStatus::converged:
          return "converged";
        case NewtonStatus::max_steps:
          return "max steps";
        case NewtonStatus::line_search_failed:
          return "line search failed";
        case NewtonStatus::non_finite:
          return "non-finite";
        case NewtonStatus::linear_solver_failed:
          return "linear solver failed";
      }
    return "unknown";
  }


  std::string
  to_string(const Nonlinearity nonlinearity)
  {
    return nonlinearity == Nonlinearity::quadratic ? "quadratic" : "exponential";
  }


  Nonlinearity
  nonlinearity_from_string(const std::string &name)
  {
    if (name == "quadratic")
      return Nonlinearity::quadratic;
    if (name == "exponential" || name == "exp")
      return Nonlinearity::exponential;
    throw std::invalid_argument("unknown nonlinearity '" + name + "' (quadratic, exponential)");
  }


  NonlinearDarcySolver::NonlinearDarcySolver(const NonlinearDarcyParameters &parameters)
    : parameters(checked(parameters))
    , fe(1)
    , dof_handler(triangulation)
  {
    GridGenerator::subdivided_hyper_cube(triangulation, parameters.n_cells_per_side, 0.0, 1.0);
    dof_handler.distribute_dofs(fe);
    constraints.clear();
    VectorTools::interpolate_boundary_values(dof_handler, 0, Functions::ZeroFunction<2>(), constraints);
    constraints.close();
    DynamicSparsityPattern dsp(dof_handler.n_dofs());
    DoFTools::make_sparsity_pattern(dof_handler, dsp, constraints, /*keep_constrained_dofs=*/false);
    jacobian_matrix.reinit(complete_index_set(dof_handler.n_dofs()), dsp, MPI_COMM_SELF);
  }


  void
  NonlinearDarcySolver::set_problem(const Function<2> &coefficient_, const Function<2> &forcing_)
  {
    coefficient = &coefficient_;
    forcing     = &forcing_;
  }


  void
  NonlinearDarcySolver::assemble(const Vector<double> &u, Vector<double> &residual, const bool with_jacobian) const
  {
    AssertThrow(coefficient != nullptr && forcing != nullptr,
                ExcMessage("NonlinearDarcySolver: call set_problem() before assembling"));
    AssertThrow(u.size() == dof_handler.n_dofs(),
                ExcMessage("NonlinearDarcySolver: vector of size " + std::to_string(u.size()) + ", the FE space has " +
                           std::to_string(dof_handler.n_dofs()) + " DoFs"));
    residual.reinit(dof_handler.n_dofs());
    if (with_jacobian)
      jacobian_matrix = 0;

    const QGauss<2>    quadrature(2);
    FEValues<2>        fe_values(fe,
                          quadrature,
                          update_values | update_gradients | update_quadrature_points | update_JxW_values);
    const unsigned int dofs_per_cell = fe.n_dofs_per_cell();
    const unsigned int n_q_points    = quadrature.size();

    FullMatrix<double>                   cell_matrix(dofs_per_cell, dofs_per_cell);
    Vector<double>                       cell_residual(dofs_per_cell);
    std::vector<double>                  a_values(n_q_points), f_values(n_q_points), u_values(n_q_points);
    std::vector<Tensor<1, 2>>            u_gradients(n_q_points);
    std::vector<types::global_dof_index> dof_indices(dofs_per_cell);

    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        coefficient->value_list(fe_values.get_quadrature_points(), a_values);
        forcing->value_list(fe_values.get_quadrature_points(), f_values);
        fe_values.get_function_values(u, u_values);
        fe_values.get_function_gradients(u, u_gradients);
        cell_matrix   = 0;
        cell_residual = 0;
        for (unsigned int q = 0; q < n_q_points; ++q)
          {
            const double       JxW     = fe_values.JxW(q);
            const double       a_k     = a_values[q] * k(u_values[q]);
            const Tensor<1, 2> a_dk_gu = a_values[q] * dk(u_values[q]) * u_gradients[q];
            for (unsigned int i = 0; i < dofs_per_cell; ++i)
              {
                const Tensor<1, 2> grad_i = fe_values.shape_grad(i, q);
                cell_residual(i) += (a_k * (u_gradients[q] * grad_i) - f_values[q] * fe_values.shape_value(i, q)) * JxW;
                if (with_jacobian)
                  {
                    const double convective = a_dk_gu * grad_i;
                    for (unsigned int j = 0; j < dofs_per_cell; ++j)
                      cell_matrix(i, j) +=
                        (a_k * (fe_values.shape_grad(j, q) * grad_i) + convective * fe_values.shape_value(j, q)) * JxW;
                  }
              }
          }
        cell->get_dof_indices(dof_indices);
        if (with_jacobian)
          constraints.distribute_local_to_global(cell_matrix, cell_residual, dof_indices, jacobian_matrix, residual);
        else
          constraints.distribute_local_to_global(cell_residual, dof_indices, residual);
      }
    if (with_jacobian)
      jacobian_matrix.compress(VectorOperation::add);
  }


  void
  NonlinearDarcySolver::assemble_residual(const Vector<double> &u, Vector<double> &residual) const
  {
    assemble(u, residual, false);
  }


  void
  NonlinearDarcySolver::assemble_jacobian(const Vector<double> &u, Vector<double> &residual)
  {
    assemble(u, residual, true);
  }


  double
  NonlinearDarcySolver::load_norm() const
  {
    Vector<double> zero(dof_handler.n_dofs()), residual;
    assemble_residual(zero, residual);
    return residual.l2_norm();
  }


  double
  NonlinearDarcySolver::relative_residual(const Vector<double> &u) const
  {
    Vector<double> residual;
    assemble_residual(u, residual);
    const double load = load_norm();
    return load > 0 ? residual.l2_norm() / load : residual.l2_norm();
  }


  NewtonResult
  NonlinearDarcySolver::solve(Vector<double> &u)
  {
    AssertThrow(u.size() == dof_handler.n_dofs(),
                ExcMessage("NonlinearDarcySolver::solve: initial guess has " + std::to_string(u.size()) +
                           " entries, the FE space " + std::to_string(dof_handler.n_dofs())));
    NewtonResult result;
    auto         start = std::chrono::steady_clock::now();
    const double load  = load_norm();
    result.assembly_seconds += seconds_since(start);
    const double scale = load > 0 ? load : 1.;
    if (!all_finite(u))
      {
        result.status                    = NewtonStatus::non_finite;
        result.initial_relative_residual = std::numeric_limits<double>::infinity();
        result.final_relative_residual   = std::numeric_limits<double>::infinity();
        return result;
      }
    constraints.set_zero(u);

    Vector<double> residual, trial, trial_residual, direction(u.size()), rhs(u.size());
    start = std::chrono::steady_clock::now();
    assemble_residual(u, residual);
    result.assembly_seconds += seconds_since(start);
    double norm                      = residual.l2_norm();
    result.initial_relative_residual = norm / scale;
    result.residual_history.push_back(norm / scale);
    const double target = parameters.relative_tolerance * load;

    double previous_norm = norm, eta = parameters.eta_max;
    bool   finished = false;
    while (!finished)
      {
        if (!std::isfinite(norm))
          {
            result.status = NewtonStatus::non_finite;
            break;
          }
        if (norm <= target)
          {
            result.status = NewtonStatus::converged;
            break;
          }
        if (result.newton_steps == parameters.max_newton_steps)
          {
            result.status = NewtonStatus::max_steps;
            break;
          }

        // Inexact Newton forcing term (Eisenstat & Walker 1996, choice 2, with their safeguard).
        if (parameters.eta_max == 0)
          eta = 1e-12;
        else
          {
            if (result.newton_steps > 0)
              {
                const double candidate = 0.9 * std::pow(norm / previous_norm, 2);
                const double safeguard = 0.9 * eta * eta;
                eta                    = safeguard > 0.1 ? std::max(candidate, safeguard) : candidate;
              }
            eta = std::min(eta, parameters.eta_max);
            // No oversolving of the last step: the tolerance needs only ||R|| <= target.
            eta = std::max(eta, 0.5 * target / norm);
            eta = std::max(eta, 1e-12);
          }

        start = std::chrono::steady_clock::now();
        assemble_jacobian(u, residual);
        result.assembly_seconds += seconds_since(start);

        start = std::chrono::steady_clock::now();
        TrilinosWrappers::PreconditionAMG                 amg;
        TrilinosWrappers::PreconditionAMG::AdditionalData data;
        data.elliptic        = true;
        data.smoother_type   = "Chebyshev";
        data.smoother_sweeps = 2;
        amg.initialize(jacobian_matrix, data);
        result.amg_setup_seconds += seconds_since(start);

        start = std::chrono::steady_clock::now();
        rhs   = residual;
        rhs *= -1.;
        direction = 0;
        SolverControl                               control(parameters.max_linear_iterations, eta * norm, false, false);
        SolverGMRES<Vector<double>>::AdditionalData gmres_data(50, /*right_preconditioning=*/true);
        SolverGMRES<Vector<double>>                 gmres(control, gmres_data);
        bool                                        linear_ok = true;
        try
          {
            gmres.solve(jacobian_matrix, direction, rhs, amg);
          }
        catch (const SolverControl::NoConvergence &failure)
          {
            // A partial solve that reduced ||J d + R|| well is still a descent direction of ||R||^2.
            linear_ok = std::isfinite(failure.last_residual) && failure.last_residual < 0.5 * norm;
          }
        result.linear_iterations += control.last_step();
        result.linear_seconds += seconds_since(start);
        if (!linear_ok || !all_finite(direction))
          {
            result.status = all_finite(direction) ? NewtonStatus::linear_solver_failed : NewtonStatus::non_finite;
            break;
          }
        constraints.set_zero(direction);

        // Backtracking line search on ||R|| (Armijo, halving).
        start           = std::chrono::steady_clock::now();
        double step     = 1.;
        bool   accepted = false;
        double new_norm = norm;
        for (unsigned int b = 0; b <= parameters.max_backtracks; ++b)
          {
            trial = u;
            trial.add(step, direction);
            assemble_residual(trial, trial_residual);
            new_norm = trial_residual.l2_norm();
            if (std::isfinite(new_norm) && new_norm <= (1. - parameters.armijo * step) * norm)
              {
                accepted = true;
                break;
              }
            ++result.backtracks;
            step *= 0.5;
          }
        if (accepted)
          result.step_lengths.push_back(step);
        result.assembly_seconds += seconds_since(start);
        if (!accepted)
          {
            result.status = NewtonStatus::line_search_failed;
            finished      = true;
            continue;
          }
        u.swap(trial);
        residual.swap(trial_residual);
        previous_norm = norm;
        norm          = new_norm;
        ++result.newton_steps;
        result.residual_history.push_back(norm / scale);
      }
    result.final_relative_residual = norm / scale;
    return result;
  }


  unsigned int
  NonlinearDarcySolver::solve_linear(Vector<double> &w, const double tolerance, NewtonResult &timing)
  {
    Vector<double> zero(dof_handler.n_dofs()), residual;
    auto           start = std::chrono::steady_clock::now();
    assemble_jacobian(zero, residual); // J(0) is the k = 1 operator, R(0) = -b
    residual *= -1.;
    timing.assembly_seconds += seconds_since(start);

    start = std::chrono::steady_clock::now();
    TrilinosWrappers::PreconditionAMG                 amg;
    TrilinosWrappers::PreconditionAMG::AdditionalData data;
    data.elliptic        = true;
    data.smoother_type   = "Chebyshev";
    data.smoother_sweeps = 2;
    amg.initialize(jacobian_matrix, data);
    timing.amg_setup_seconds += seconds_since(start);

    w.reinit(dof_handler.n_dofs());
    const KrylovResult krylov =
      solve_cg({&jacobian_matrix, &residual, &constraints, &amg}, w, {tolerance, parameters.max_linear_iterations, 3});
    timing.linear_seconds += krylov.seconds;
    timing.linear_iterations += krylov.iterations;
    return krylov.iterations;
  }


  double
  NonlinearDarcySolver::kirchhoff(const double u) const
  {
    return parameters.nonlinearity == Nonlinearity::quadratic ? u + u * u * u / 3. :
                                                                std::expm1(parameters.beta * u) / parameters.beta;
  }


  void
  NonlinearDarcySolver::kirchhoff_guess(Vector<double> &w) const
  {
    if (parameters.nonlinearity == Nonlinearity::exponential)
      {
        const double beta = parameters.beta;
        for (double &value : w)
          value = std::log1p(std::max(beta * value, -1. + 1e-12)) / beta;
        return;
      }
    // The real root of u^3 + 3 u - 3 w = 0 (Cardano; the discriminant is positive).
    for (double &value : w)
      {
        const double s = std::sqrt(2.25 * value * value + 1.);
        value          = std::cbrt(1.5 * value + s) + std::cbrt(1.5 * value - s);
      }
  }
} // namespace mpno
