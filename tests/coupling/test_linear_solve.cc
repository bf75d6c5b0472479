// solve_cg and LinearSystem (coupling/include/mpno/coupling/linear_solve.h): the true
// residual decides, whatever the initial guess.
#include <mpno/coupling/darcy.h>
#include <mpno/coupling/linear_solve.h>

#include <deal.II/lac/lapack_full_matrix.h>
#include <deal.II/lac/solver_control.h>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "darcy_system.h"
#include "mpi_environment.h"

namespace
{
  [[maybe_unused]] const bool mpi_ready = mpno::test::ensure_mpi();
} // namespace

TEST(SolveCG, ConvergesFromZeroToTheTrueResidual)
{
  const auto               solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem system = solver->linear_system();
  dealii::Vector<double>   u(system.rhs->size());
  const mpno::KrylovResult r = mpno::solve_cg(system, u, {1e-10, 100, 3});
  EXPECT_TRUE(r.converged);
  EXPECT_GT(r.iterations, 0u);
  EXPECT_DOUBLE_EQ(r.initial_relative_residual, 1.);
  EXPECT_LE(r.final_relative_residual, 1e-10);
  EXPECT_DOUBLE_EQ(r.final_relative_residual, system.relative_residual(u));
}

TEST(SolveCG, NonFiniteInitialGuessIsReplacedByZero)
{
  const auto               solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem system = solver->linear_system();
  dealii::Vector<double>   zero(system.rhs->size()), poisoned(system.rhs->size());
  poisoned(7)                = std::numeric_limits<double>::quiet_NaN();
  poisoned(9)                = std::numeric_limits<double>::infinity();
  const mpno::KrylovResult a = mpno::solve_cg(system, zero, {1e-10, 100, 3});
  const mpno::KrylovResult b = mpno::solve_cg(system, poisoned, {1e-10, 100, 3});
  EXPECT_EQ(a.iterations, b.iterations);
  EXPECT_LE(b.final_relative_residual, 1e-10);
  for (unsigned int i = 0; i < zero.size(); ++i)
    ASSERT_EQ(zero(i), poisoned(i)) << i;
}

TEST(SolveCG, ConvergedInitialGuessTakesNoIteration)
{
  const auto               solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem system = solver->linear_system();
  dealii::Vector<double>   u(system.rhs->size());
  mpno::solve_cg(system, u, {1e-12, 100, 3});
  const dealii::Vector<double> converged = u;
  const mpno::KrylovResult     r         = mpno::solve_cg(system, u, {1e-10, 100, 3});
  EXPECT_EQ(r.iterations, 0u);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(u, converged);
}

TEST(SolveCG, UnreachableToleranceThrowsInsteadOfReturning)
{
  const auto               solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem system = solver->linear_system();
  dealii::Vector<double>   u(system.rhs->size());
  // Below double rounding: the restarts cannot get there.
  EXPECT_THROW(mpno::solve_cg(system, u, {1e-19, 1000, 2}), dealii::SolverControl::NoConvergence);
}

TEST(SolveCG, TooFewIterationsThrow)
{
  const auto               solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem system = solver->linear_system();
  dealii::Vector<double>   u(system.rhs->size());
  EXPECT_THROW(mpno::solve_cg(system, u, {1e-14, 1, 3}), dealii::SolverControl::NoConvergence);
}

TEST(SolveCG, SizeMismatchNamesBothSizes)
{
  const auto               solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem system = solver->linear_system();
  dealii::Vector<double>   u(3);
  try
    {
      mpno::solve_cg(system, u, {});
      FAIL() << "a vector of the wrong size was accepted";
    }
  catch (const dealii::ExceptionBase &error)
    {
      EXPECT_NE(std::string(error.what()).find("the vector has 3 entries, the right-hand side 289"), std::string::npos)
        << error.what();
    }
}

TEST(LinearSolve, LanczosMinimumIsWithinTheMargin)
{
  // The Ritz estimates of the AMG-preconditioned Laplacian's extreme eigenvalues against
  // the dense eigenvalues of B A on the unconstrained DoFs (Q1 and Q2, 12^2 cells): the
  // smallest Ritz value is an upper estimate within the margin 1.1 that Problem darcy's
  // certificate assumes, the largest a lower estimate.
  for (const unsigned int degree : {1u, 2u})
    {
      mpno::DarcyParameters parameters;
      parameters.n_cells_per_side = 12;
      parameters.fe_degree        = degree;
      mpno::DarcySolver solver(parameters);
      solver.assemble_system(dealii::Functions::ConstantFunction<2>(1.));
      const mpno::LinearSystem system                       = solver.linear_system();
      const auto [lambda_min_estimate, lambda_max_estimate] = mpno::estimate_preconditioned_spectrum(system);

      std::vector<unsigned int> free;
      for (unsigned int i = 0; i < system.rhs->size(); ++i)
        if (!system.constraints->is_constrained(i))
          free.push_back(i);
      const unsigned int               n = free.size();
      dealii::LAPACKFullMatrix<double> BA(n, n);
      dealii::Vector<double>           e(system.rhs->size()), Ae(e.size()), BAe(e.size());
      for (unsigned int j = 0; j < n; ++j)
        {
          e          = 0;
          e(free[j]) = 1.;
          system.matrix->vmult(Ae, e);
          system.constraints->set_zero(Ae);
          system.get_preconditioner().vmult(BAe, Ae);
          for (unsigned int i = 0; i < n; ++i)
            BA(i, j) = BAe(free[i]);
        }
      BA.compute_eigenvalues();
      double lambda_min = std::numeric_limits<double>::max(), lambda_max = 0.;
      for (unsigned int i = 0; i < n; ++i)
        {
          const double lambda = BA.eigenvalue(i).real();
          EXPECT_NEAR(BA.eigenvalue(i).imag(), 0., 1e-8 * std::abs(lambda)) << "B A similar to an SPD matrix";
          lambda_min = std::min(lambda_min, lambda);
          lambda_max = std::max(lambda_max, lambda);
        }
      EXPECT_GE(lambda_min_estimate, lambda_min * (1. - 1e-8)) << "degree " << degree;
      EXPECT_LE(lambda_min_estimate, 1.1 * lambda_min) << "degree " << degree;
      EXPECT_LE(lambda_max_estimate, lambda_max * (1. + 1e-8)) << "degree " << degree;
      EXPECT_GE(lambda_max_estimate, 0.9 * lambda_max) << "degree " << degree;
    }
}
