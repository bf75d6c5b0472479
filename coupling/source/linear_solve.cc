#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>

#include <mpno/coupling/linear_solve.h>

#include <chrono>
#include <cmath>
#include <random>
#include <string>

namespace mpno
{
  using namespace dealii;

  namespace
  {
    void
    check(const LinearSystem &system, const Vector<double> &u, const char *function)
    {
      AssertThrow(system.matrix != nullptr && system.rhs != nullptr && system.constraints != nullptr,
                  ExcMessage(std::string(function) + ": the LinearSystem lacks its matrix, rhs or constraints"));
      AssertThrow(u.size() == system.rhs->size(),
                  ExcMessage(std::string(function) + ": the vector has " + std::to_string(u.size()) +
                             " entries, the right-hand side " + std::to_string(system.rhs->size())));
    }
  } // namespace

  double
  LinearSystem::relative_residual(const Vector<double> &u) const
  {
    check(*this, u, "LinearSystem::relative_residual");
    const double rhs_norm = rhs->l2_norm();
    if (rhs_norm == 0)
      return 0;
    Vector<double> residual(rhs->size());
    matrix->vmult(residual, u);
    residual.sadd(-1., 1., *rhs);
    return residual.l2_norm() / rhs_norm;
  }

  const TrilinosWrappers::PreconditionBase &
  LinearSystem::get_preconditioner() const
  {
    if (preconditioner != nullptr)
      return *preconditioner;
    AssertThrow(make_preconditioner, ExcMessage("LinearSystem: no preconditioner and no make_preconditioner"));
    return make_preconditioner();
  }

  std::pair<double, double>
  estimate_preconditioned_spectrum(const LinearSystem &system, const unsigned int max_iterations)
  {
    AssertThrow(system.rhs != nullptr, ExcMessage("estimate_preconditioned_spectrum: the LinearSystem has no rhs"));
    Vector<double> y(system.rhs->size()), x(system.rhs->size());
    check(system, x, "estimate_preconditioned_spectrum");
    std::mt19937                           generator(17);
    std::uniform_real_distribution<double> uniform(-1., 1.);
    for (double &v : y)
      v = uniform(generator);
    system.constraints->set_zero(y);
    // Tolerance 0: CG runs until the smallest Ritz value stagnates (the slot stops it by
    // throwing) or max_iterations are spent (NoConvergence, after the last estimate).
    struct Stagnated
    {
    };
    SolverControl             control(max_iterations, 0., false, false);
    SolverCG<Vector<double>>  cg(control);
    std::pair<double, double> extremes(0., 0.);
    unsigned int              steady = 0;
    cg.connect_eigenvalues_slot(
      [&](const std::vector<double> &eigenvalues) {
        if (eigenvalues.empty())
          return;
        const double previous = extremes.first;
        extremes              = {eigenvalues.front(), eigenvalues.back()};
        steady                = std::abs(extremes.first - previous) <= 1e-4 * extremes.first ? steady + 1 : 0;
        if (steady >= 5)
          throw Stagnated();
      },
      /*every_iteration=*/true);
    try
      {
        cg.solve(*system.matrix, x, y, system.get_preconditioner());
      }
    catch (const SolverControl::NoConvergence &)
      {
      }
    catch (const Stagnated &)
      {
      }
    AssertThrow(extremes.first > 0,
                ExcMessage("estimate_preconditioned_spectrum: no positive eigenvalue estimate (is B A SPD?)"));
    return extremes;
  }

  double
  reference_bound_constant(const LinearSystem &reference)
  {
    return 1.1 / estimate_preconditioned_spectrum(reference).first;
  }

  KrylovResult
  solve_cg(const LinearSystem &system, Vector<double> &solution, const KrylovSettings &settings)
  {
    check(system, solution, "solve_cg");
    const auto start = std::chrono::steady_clock::now();

    bool finite = true;
    for (const double v : solution)
      finite = finite && std::isfinite(v);
    if (!finite)
      solution = 0;
    system.constraints->distribute(solution);

    KrylovResult result;
    const double rhs_norm = system.rhs->l2_norm();
    if (rhs_norm == 0)
      solution = 0;
    result.initial_relative_residual = result.final_relative_residual = system.relative_residual(solution);

    // `!(r <= tol)` also continues on a NaN residual. The preconditioner is built only
    // when CG has to run.
    for (unsigned int run = 0;
         run < settings.max_restarts && !(result.final_relative_residual <= settings.relative_tolerance);
         ++run)
      {
        SolverControl control(settings.max_iterations - result.iterations, settings.relative_tolerance * rhs_norm);
        SolverCG<Vector<double>> cg(control);
        cg.solve(*system.matrix, solution, *system.rhs, system.get_preconditioner());
        system.constraints->distribute(solution);
        result.iterations += control.last_step();
        result.final_relative_residual = system.relative_residual(solution);
      }
    result.converged = result.final_relative_residual <= settings.relative_tolerance;
    if (!result.converged)
      throw SolverControl::NoConvergence(result.iterations, result.final_relative_residual);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }
} // namespace mpno
