// NonlinearDarcySolver (coupling/include/mpno/coupling/nonlinear_darcy.h): the Jacobian
// against finite differences of the residual, Newton's quadratic convergence, a
// manufactured solution, the Kirchhoff guess and the handling of bad starts.
#include <mpno/coupling/darcy.h>
#include <mpno/coupling/nonlinear_darcy.h>
#include <mpno/coupling/random_field.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/numerics/vector_tools.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

#include "mpi_environment.h"

namespace
{
  using namespace dealii;
  using mpno::NewtonStatus;
  using mpno::NonlinearDarcyParameters;
  using mpno::NonlinearDarcySolver;

  [[maybe_unused]] const bool mpi_ready = mpno::test::ensure_mpi();

  /// u = sin(pi x) sin(pi y).
  class ExactSolution : public Function<2>
  {
  public:
    double
    value(const Point<2> &p, const unsigned int = 0) const override
    {
      return std::sin(M_PI * p[0]) * std::sin(M_PI * p[1]);
    }
  };

  /// f = -div(a k(u) grad u) = a (k(u) 2 pi^2 u - k'(u) |grad u|^2) for the u above, a = 2,
  /// with the solver's k.
  class ManufacturedForcing : public Function<2>
  {
  public:
    explicit ManufacturedForcing(const NonlinearDarcySolver &solver)
      : solver(solver)
    {
    }
    double
    value(const Point<2> &p, const unsigned int = 0) const override
    {
      const double pi = M_PI, sx = std::sin(pi * p[0]), sy = std::sin(pi * p[1]);
      const double u       = sx * sy;
      const double grad_u2 = pi * pi * (std::pow(std::cos(pi * p[0]) * sy, 2) + std::pow(sx * std::cos(pi * p[1]), 2));
      return 2. * (solver.k(u) * 2 * pi * pi * u - solver.dk(u) * grad_u2);
    }

  private:
    const NonlinearDarcySolver &solver;
  };

  /// The nonlinearities under test: k = 1 + u^2 and k = exp(2 u).
  NonlinearDarcyParameters
  parameters_for(const mpno::Nonlinearity nonlinearity, const unsigned int n)
  {
    NonlinearDarcyParameters parameters;
    parameters.n_cells_per_side = n;
    parameters.nonlinearity     = nonlinearity;
    parameters.beta             = 2.;
    return parameters;
  }

  class NonlinearDarcyK : public ::testing::TestWithParam<mpno::Nonlinearity>
  {
  };

  /// The Darcy problem's coefficient: a thresholded Gaussian random field (12 / 3) on 32^2 points.
  mpno::GridFunction
  random_coefficient(const std::uint64_t seed)
  {
    const mpno::GaussianRandomField<2> field(32);
    const std::vector<double>          values = field.sample(seed);
    return mpno::GridFunction(32, 32, mpno::threshold(values));
  }

  double
  manufactured_l2_error(const unsigned int n, const mpno::Nonlinearity nonlinearity)
  {
    const NonlinearDarcyParameters       parameters = parameters_for(nonlinearity, n);
    NonlinearDarcySolver                 solver(parameters);
    const Functions::ConstantFunction<2> a(2.);
    const ManufacturedForcing            f(solver);
    solver.set_problem(a, f);
    Vector<double> u(solver.get_dof_handler().n_dofs());
    const auto     result = solver.solve(u);
    EXPECT_TRUE(result.converged()) << to_string(result.status);
    EXPECT_LE(result.final_relative_residual, parameters.relative_tolerance);
    Vector<float> cellwise(solver.get_triangulation().n_active_cells());
    VectorTools::integrate_difference(solver.get_dof_handler(),
                                      u,
                                      ExactSolution(),
                                      cellwise,
                                      QGauss<2>(4),
                                      VectorTools::L2_norm);
    return VectorTools::compute_global_error(solver.get_triangulation(), cellwise, VectorTools::L2_norm);
  }
} // namespace

INSTANTIATE_TEST_SUITE_P(NonlinearDarcy,
                         NonlinearDarcyK,
                         ::testing::Values(mpno::Nonlinearity::quadratic, mpno::Nonlinearity::exponential),
                         [](const auto &info) { return mpno::to_string(info.param); });

TEST_P(NonlinearDarcyK, JacobianMatchesFiniteDifferencesOfTheResidual)
{
  NonlinearDarcySolver                 solver(parameters_for(GetParam(), 16));
  const auto                           a = random_coefficient(3);
  const Functions::ConstantFunction<2> f(50.);
  solver.set_problem(a, f);

  // u of O(1) (so k'(u) = 2 u or 2 exp(2 u) matters), d random; both zero on the boundary.
  const unsigned int n_dofs = solver.get_dof_handler().n_dofs();
  Vector<double>     u(n_dofs), d(n_dofs);
  VectorTools::interpolate(solver.get_dof_handler(), ExactSolution(), u);
  std::mt19937_64                        generator(7);
  std::uniform_real_distribution<double> uniform(-1., 1.);
  for (double &v : d)
    v = uniform(generator);
  solver.get_constraints().set_zero(d);

  Vector<double> r, r_plus, jd(n_dofs);
  solver.assemble_jacobian(u, r);
  solver.jacobian().vmult(jd, d);
  double previous_error = 0;
  for (const double eps : {1e-3, 1e-4})
    {
      Vector<double> shifted(u);
      shifted.add(eps, d);
      solver.assemble_residual(shifted, r_plus);
      Vector<double> difference(r_plus);
      difference -= r;
      difference /= eps;
      difference -= jd;
      const double error = difference.l2_norm() / jd.l2_norm();
      EXPECT_LT(error, 20 * eps) << "eps = " << eps; // forward difference: O(eps)
      std::printf("eps %.0e: relative error of the difference quotient %.3e\n", eps, error);
      if (previous_error > 0)
        {
          EXPECT_GT(previous_error / error, 5.) << "the error must fall like eps";
        }
      previous_error = error;
    }
}

TEST_P(NonlinearDarcyK, NewtonConvergesQuadraticallyNearTheSolution)
{
  NonlinearDarcyParameters parameters = parameters_for(GetParam(), 32);
  parameters.eta_max                  = 0; // exact Newton
  NonlinearDarcySolver                 solver(parameters);
  const auto                           a = random_coefficient(11);
  const Functions::ConstantFunction<2> f(100.);
  solver.set_problem(a, f);
  Vector<double> u(solver.get_dof_handler().n_dofs());
  const auto     result = solver.solve(u);
  ASSERT_TRUE(result.converged()) << to_string(result.status);
  EXPECT_LE(result.final_relative_residual, 1e-10);
  EXPECT_GT(u.linfty_norm(), 0.5) << "f must make u of O(1) so that the nonlinearity matters";
  // Near the solution r_{k+1} ~ C r_k^2: in the last steps log r_{k+1} / log r_k >= 1.7.
  const auto &h = result.residual_history;
  for (std::size_t k = 0; k < h.size(); ++k)
    std::printf("step %zu: ||R|| / ||R(0)|| = %.3e\n", k, h[k]);
  unsigned checked_steps = 0;
  for (std::size_t k = 1; k + 1 < h.size(); ++k)
    if (h[k] < 1e-2 && h[k + 1] > 1e-15)
      {
        EXPECT_GT(std::log(h[k + 1]) / std::log(h[k]), 1.7) << "step " << k << ": " << h[k] << " -> " << h[k + 1];
        ++checked_steps;
      }
  EXPECT_GE(checked_steps, 1u);
}

TEST_P(NonlinearDarcyK, ManufacturedSolutionConvergesAtSecondOrderInL2)
{
  const double e16 = manufactured_l2_error(16, GetParam()), e32 = manufactured_l2_error(32, GetParam());
  std::printf("L2 errors: %.3e (16^2), %.3e (32^2), order %.2f\n", e16, e32, std::log2(e16 / e32));
  EXPECT_LT(e32, 1e-2);
  EXPECT_GT(std::log2(e16 / e32), 1.85) << e16 << " " << e32;
}

TEST(NonlinearDarcy, KirchhoffGuessInvertsTheTransform)
{
  NonlinearDarcyParameters parameters;
  parameters.n_cells_per_side = 2;
  for (const auto nonlinearity : {mpno::Nonlinearity::quadratic, mpno::Nonlinearity::exponential})
    {
      parameters.nonlinearity = nonlinearity;
      parameters.beta         = 1.5;
      const NonlinearDarcySolver solver(parameters);
      Vector<double>             w(5);
      const double               u_values[] = {-2., -0.3, 0., 0.7, 3.};
      for (unsigned int i = 0; i < 5; ++i)
        w[i] = solver.kirchhoff(u_values[i]);
      EXPECT_NEAR(w[3],
                  nonlinearity == mpno::Nonlinearity::quadratic ? 0.7 + 0.343 / 3 : std::expm1(1.05) / 1.5,
                  1e-12);
      solver.kirchhoff_guess(w);
      for (unsigned int i = 0; i < 5; ++i)
        EXPECT_NEAR(w[i], u_values[i], 1e-12) << to_string(nonlinearity);
    }
}

TEST(NonlinearDarcy, BadStartsAreReportedNotReturnedAsConverged)
{
  NonlinearDarcyParameters parameters;
  parameters.n_cells_per_side = 16;
  NonlinearDarcySolver                 solver(parameters);
  const auto                           a = random_coefficient(5);
  const Functions::ConstantFunction<2> f(100.);
  solver.set_problem(a, f);
  const unsigned int n_dofs = solver.get_dof_handler().n_dofs();

  Vector<double> nan_start(n_dofs);
  nan_start[n_dofs / 2] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(solver.solve(nan_start).status, NewtonStatus::non_finite);

  // Too few steps from a far start: max steps, with the true residual above the tolerance.
  parameters.max_newton_steps = 1;
  NonlinearDarcySolver short_solver(parameters);
  short_solver.set_problem(a, f);
  Vector<double> u(n_dofs);
  u.add(30.);
  const auto result = short_solver.solve(u);
  EXPECT_EQ(result.status, NewtonStatus::max_steps);
  EXPECT_GT(result.final_relative_residual, parameters.relative_tolerance);
  EXPECT_NEAR(result.final_relative_residual, short_solver.relative_residual(u), 1e-12);

  EXPECT_THROW(NonlinearDarcySolver(NonlinearDarcyParameters{0}), std::invalid_argument);
}

// The benchmark's strongly nonlinear regimes (k up to about 60 and 30): from zero, Newton
// needs damped steps (line search) before its quadratic phase; from the Kirchhoff guess it
// is in that phase at once.
TEST_P(NonlinearDarcyK, StrongNonlinearityConvergesFromZeroWithDampedSteps)
{
  NonlinearDarcySolver                 solver(parameters_for(GetParam(), 32));
  const auto                           a         = random_coefficient(11);
  const bool                           quadratic = GetParam() == mpno::Nonlinearity::quadratic;
  const Functions::ConstantFunction<2> f(quadratic ? 1e4 : 1e3);
  solver.set_problem(a, f);
  Vector<double> u(solver.get_dof_handler().n_dofs());
  const auto     result = solver.solve(u);
  ASSERT_TRUE(result.converged()) << to_string(result.status);
  EXPECT_NEAR(result.final_relative_residual, solver.relative_residual(u), 1e-14);
  ASSERT_EQ(result.step_lengths.size(), result.newton_steps);
  EXPECT_LT(result.step_lengths.front(), 0.5) << "the first step from zero must be damped";
  EXPECT_EQ(result.step_lengths.back(), 1.);
  EXPECT_GT(result.backtracks, 0u);
  for (std::size_t k = 0; k + 1 < result.residual_history.size(); ++k)
    EXPECT_LT(result.residual_history[k + 1], result.residual_history[k]) << "Armijo: ||R|| falls at every step";
  EXPECT_GT(u.linfty_norm(), quadratic ? 5. : 1.5);

  Vector<double>     w;
  mpno::NewtonResult timing;
  solver.solve_linear(w, 1e-8, timing);
  solver.kirchhoff_guess(w);
  const auto from_kirchhoff = solver.solve(w);
  ASSERT_TRUE(from_kirchhoff.converged());
  EXPECT_LT(from_kirchhoff.initial_relative_residual, 0.2);
  EXPECT_LT(from_kirchhoff.newton_steps, result.newton_steps);
  EXPECT_EQ(from_kirchhoff.backtracks, 0u);
  w -= u;
  EXPECT_LT(w.linfty_norm(), 1e-8 * u.linfty_norm());
}

TEST(NonlinearDarcy, ExponentialRejectsBadBetaAndOverflowingStarts)
{
  NonlinearDarcyParameters parameters = parameters_for(mpno::Nonlinearity::exponential, 8);
  parameters.beta                     = 0;
  EXPECT_THROW(NonlinearDarcySolver{parameters}, std::invalid_argument);
  parameters.beta = -1;
  EXPECT_THROW(NonlinearDarcySolver{parameters}, std::invalid_argument);
  EXPECT_EQ(mpno::nonlinearity_from_string("exp"), mpno::Nonlinearity::exponential);
  EXPECT_EQ(mpno::nonlinearity_from_string(mpno::to_string(mpno::Nonlinearity::quadratic)),
            mpno::Nonlinearity::quadratic);
  EXPECT_THROW(mpno::nonlinearity_from_string("cubic"), std::invalid_argument);

  // exp(2 u) at u = 1000 overflows: reported as non-finite, never as converged.
  parameters.beta = 2;
  NonlinearDarcySolver                 solver(parameters);
  const Functions::ConstantFunction<2> a(1.), f(100.);
  solver.set_problem(a, f);
  Vector<double> u(solver.get_dof_handler().n_dofs());
  u.add(1000.);
  const auto result = solver.solve(u);
  EXPECT_EQ(result.status, NewtonStatus::non_finite);
  EXPECT_FALSE(result.converged());
}
