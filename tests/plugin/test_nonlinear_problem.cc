// Problem `nonlinear darcy` through Problem::Interface (plugin/source/problem/
// nonlinear_darcy.cc): the classical starts, Newton to the tolerance from each, bad starts
// reported rather than thrown, and linear problems refusing the nonlinear calls.
#include <deal.II/base/parameter_handler.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/linear_solve.h>
#include <mpno/plugin/problem.h>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include "../coupling/mpi_environment.h"

namespace
{
  [[maybe_unused]] const bool mpi_ready = mpno::test::ensure_mpi();

  std::unique_ptr<mpno::Problem::Interface<2>>
  make_problem(const std::string &name,
               const std::string &subsection,
               const std::string &start        = "linear",
               const std::string &nonlinearity = "quadratic")
  {
    dealii::ParameterHandler prm;
    prm.enter_subsection("Problem");
    mpno::Problem::registry<2>().declare_parameters(prm);
    prm.enter_subsection(subsection);
    prm.set("Cells per side", "16");
    prm.set("Coefficient grid points", "16");
    if (name == "nonlinear darcy")
      {
        prm.set("Classical start", start);
        prm.set("Nonlinearity", nonlinearity);
        prm.set("Beta", "2");
      }
    prm.leave_subsection();
    auto problem = mpno::Problem::registry<2>().create(name);
    problem->parse_parameters(prm);
    prm.leave_subsection();
    problem->setup();
    problem->sample(3);
    return problem;
  }
} // namespace

TEST(NonlinearProblem, EveryClassicalStartConvergesToTheSameSolution)
{
  dealii::Vector<double> first;
  for (const std::string start : {"zero", "linear", "kirchhoff"})
    {
      auto problem = make_problem("nonlinear darcy", "Nonlinear Darcy", start);
      ASSERT_TRUE(problem->is_nonlinear());
      dealii::Vector<double> u;
      const auto             initial = problem->classical_start(u);
      ASSERT_EQ(u.size(), problem->n_dofs()) << start;
      EXPECT_EQ(initial.steps, 0u);
      EXPECT_EQ(initial.status, start + " start");
      if (start == "zero")
        EXPECT_DOUBLE_EQ(initial.final_relative_residual, 1.) << "R(0) / R(0)";
      else
        EXPECT_LT(initial.final_relative_residual, 1.) << start << " must be better than zero";
      const auto newton = problem->solve_nonlinear(u);
      EXPECT_TRUE(newton.converged) << start << ": " << newton.status;
      EXPECT_EQ(newton.status, "converged");
      EXPECT_GE(newton.steps, 1u);
      EXPECT_LE(newton.final_relative_residual, 1e-10) << start;
      EXPECT_GT(newton.seconds, 0.);
      if (first.size() == 0)
        first = u;
      else
        {
          dealii::Vector<double> difference = u;
          difference -= first;
          EXPECT_LT(difference.linfty_norm(), 1e-8 * first.linfty_norm()) << start;
        }
    }
  // f = 100 makes |u| of O(1): the nonlinearity matters (max |u| well above 0.3).
  EXPECT_GT(first.linfty_norm(), 0.3);
}

TEST(NonlinearProblem, ExponentialPermeabilityConvergesFromEachStart)
{
  // k(u) = exp(2 u): the same solution from zero and from the Kirchhoff start.
  dealii::Vector<double> from_zero, from_kirchhoff;
  for (auto *u : {&from_zero, &from_kirchhoff})
    {
      auto problem =
        make_problem("nonlinear darcy", "Nonlinear Darcy", u == &from_zero ? "zero" : "kirchhoff", "exponential");
      problem->classical_start(*u);
      const auto newton = problem->solve_nonlinear(*u);
      EXPECT_TRUE(newton.converged) << newton.status;
      EXPECT_LE(newton.final_relative_residual, 1e-10);
    }
  dealii::Vector<double> difference = from_zero;
  difference -= from_kirchhoff;
  EXPECT_LT(difference.linfty_norm(), 1e-8 * from_zero.linfty_norm());
  EXPECT_GT(from_zero.linfty_norm(), 0.1);
}

TEST(NonlinearProblem, TheLinearSystemIsTheLinearisationAtZero)
{
  // assemble() + linear_system() is the k = 1 problem that the linear start solves.
  auto problem = make_problem("nonlinear darcy", "Nonlinear Darcy");
  problem->assemble();
  dealii::Vector<double>   w(problem->n_dofs()), start;
  mpno::KrylovSettings     settings;
  const mpno::KrylovResult result     = mpno::solve_cg(problem->linear_system(), w, settings);
  const auto               report     = problem->classical_start(start);
  dealii::Vector<double>   difference = w;
  difference -= start;
  EXPECT_LE(result.final_relative_residual, settings.relative_tolerance);
  EXPECT_LT(difference.linfty_norm(), 1e-5 * w.linfty_norm());
  EXPECT_GT(report.linear_iterations, 0u);
}

TEST(NonlinearProblem, BadStartsAreReportedNotThrown)
{
  auto                   problem = make_problem("nonlinear darcy", "Nonlinear Darcy");
  dealii::Vector<double> u(problem->n_dofs());
  u                    = std::numeric_limits<double>::quiet_NaN();
  const auto nan_start = problem->solve_nonlinear(u);
  EXPECT_FALSE(nan_start.converged);
  EXPECT_EQ(nan_start.status, "non-finite");
  EXPECT_EQ(nan_start.steps, 0u);

  // A rough random start (a useless operator's prediction) still converges, or says why not.
  std::mt19937                           generator(7);
  std::uniform_real_distribution<double> uniform(-3., 3.);
  for (double &x : u)
    x = uniform(generator);
  const auto rough = problem->solve_nonlinear(u);
  if (rough.converged)
    EXPECT_LE(rough.final_relative_residual, 1e-10);
  else
    EXPECT_FALSE(rough.status.empty());
  EXPECT_GT(rough.initial_relative_residual, 1.);
}

TEST(NonlinearProblem, LinearProblemsRefuseTheNonlinearCalls)
{
  auto problem = make_problem("darcy", "Darcy");
  EXPECT_FALSE(problem->is_nonlinear());
  dealii::Vector<double> u(problem->n_dofs());
  EXPECT_THROW(problem->classical_start(u), std::logic_error);
  EXPECT_THROW(problem->solve_nonlinear(u), std::logic_error);
}
