// solve_cg and LinearSystem (coupling/include/mpno/coupling/linear_solve.h): the true
// residual decides, whatever the initial guess.
#include <mpno/coupling/darcy.h>
#include <mpno/coupling/linear_solve.h>

#include <deal.II/lac/solver_control.h>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "mpi_environment.h"

namespace
{
  [[maybe_unused]] const bool mpi_ready = mpno::test::ensure_mpi();

  /// A Darcy system on 16^2 cells with a = 2, f = 1, AMG set up.
  std::unique_ptr<mpno::DarcySolver>
  assembled_solver()
  {
    mpno::DarcyParameters parameters;
    parameters.n_cells_per_side = 16;
    auto solver                 = std::make_unique<mpno::DarcySolver>(parameters);
    solver->assemble_system(dealii::Functions::ConstantFunction<2>(2.));
    solver->setup_amg();
    return solver;
  }
} // namespace

TEST(SolveCG, ConvergesFromZeroToTheTrueResidual)
{
  const auto               solver = assembled_solver();
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
  const auto               solver = assembled_solver();
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
  const auto               solver = assembled_solver();
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
  const auto               solver = assembled_solver();
  const mpno::LinearSystem system = solver->linear_system();
  dealii::Vector<double>   u(system.rhs->size());
  // Below double rounding: the restarts cannot get there.
  EXPECT_THROW(mpno::solve_cg(system, u, {1e-19, 1000, 2}), dealii::SolverControl::NoConvergence);
}

TEST(SolveCG, TooFewIterationsThrow)
{
  const auto               solver = assembled_solver();
  const mpno::LinearSystem system = solver->linear_system();
  dealii::Vector<double>   u(system.rhs->size());
  EXPECT_THROW(mpno::solve_cg(system, u, {1e-14, 1, 3}), dealii::SolverControl::NoConvergence);
}

TEST(SolveCG, SizeMismatchNamesBothSizes)
{
  const auto               solver = assembled_solver();
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
