// The Problem and HybridStrategy plugin systems and the hybrid solver's guarantee: a
// surrogate that is useless (random weights) or broken (non-finite output) costs
// iterations, never accuracy (issue 3, "the guarantee").
#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/surrogate_model.h>
#include <mpno/plugin/hybrid_solver.h>
#include <mpno/plugin/problem.h>

#include "../coupling/mpi_environment.h"
#include "surrogate_model_impl.h"

#include <mpno/surrogate/fno.h>

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace
{
  const bool mpi_ready = mpno::test::ensure_mpi();

  /** The darcy problem on a 32^2 mesh with a 16^2 coefficient grid, set up. */
  std::unique_ptr<mpno::Problem::Interface<2>>
  small_darcy()
  {
    dealii::ParameterHandler prm;
    prm.enter_subsection("Problem");
    mpno::Problem::registry<2>().declare_parameters(prm);
    prm.enter_subsection("Darcy");
    prm.set("Cells per side", "32");
    prm.set("Coefficient grid points", "16");
    prm.leave_subsection();
    auto problem = mpno::Problem::registry<2>().create("darcy");
    problem->parse_parameters(prm);
    prm.leave_subsection();
    problem->setup();
    return problem;
  }

  /** An untrained FNO (seeded random weights) as a SurrogateModel. */
  std::shared_ptr<const mpno::SurrogateModel>
  random_surrogate(const bool poison = false)
  {
    torch::manual_seed(3);
    mpno::FNOOptions options;
    options.n_modes         = {4, 4};
    options.hidden_channels = 8;
    options.n_layers        = 2;
    auto impl               = std::make_unique<mpno::SurrogateModel::Impl>();
    impl->loaded.model      = mpno::FNO(options).ptr();
    if (poison)
      {
        torch::NoGradGuard no_grad;
        for (auto &p : impl->loaded.model->parameters())
          p.fill_(std::numeric_limits<float>::quiet_NaN());
      }
    return std::make_shared<const mpno::SurrogateModel>(std::move(impl));
  }

  mpno::HybridSolver<2>
  hybrid_solver(const std::string &strategy)
  {
    dealii::ParameterHandler prm;
    mpno::HybridSolver<2>::declare_parameters(prm);
    prm.enter_subsection("Hybrid solver");
    prm.set("Strategy", strategy);
    prm.set("Inference grid points", "16");
    prm.leave_subsection();
    mpno::HybridSolver<2> solver;
    solver.parse_parameters(prm);
    return solver;
  }
} // namespace

TEST(PluginSystems, BuiltInsAreRegistered)
{
  EXPECT_EQ(mpno::Problem::registry<2>().names(), "darcy|heat|holes|nonlinear darcy|sphere");
  EXPECT_EQ(mpno::Problem::registry<3>().names(), "");
  // Registration order follows the link order of the translation units.
  std::vector<std::string> strategies;
  std::stringstream        names(mpno::HybridStrategy::registry().names());
  for (std::string name; std::getline(names, name, '|');)
    strategies.push_back(name);
  std::sort(strategies.begin(), strategies.end());
  EXPECT_EQ(strategies, (std::vector<std::string>{"initial guess", "none", "preconditioner", "replace"}));
  EXPECT_THROW(mpno::HybridStrategy::registry().create("no such strategy"), std::invalid_argument);
}

TEST(DarcyProblem, SameSeedSameInstance)
{
  auto                problem = small_darcy();
  std::vector<double> first, second;
  for (const std::uint64_t seed : {5u, 6u, 5u})
    {
      problem->sample(seed);
      std::vector<double> values;
      for (unsigned int i = 0; i < 50; ++i)
        values.push_back(problem->input_field(0).value(dealii::Point<2>(i / 49., std::fmod(0.37 * i, 1.))));
      for (const double v : values)
        EXPECT_TRUE(v == 12. || v == 3.) << v;
      (first.empty() ? first : second) = values;
      if (seed == 6u)
        {
          EXPECT_NE(values, first);
        }
    }
  EXPECT_EQ(first, second);
}

TEST(HybridSolver, RandomWeightsStillReachTheTolerance)
{
  auto problem = small_darcy();
  auto hybrid  = hybrid_solver("initial guess");
  hybrid.set_surrogate(random_surrogate());
  const auto [lower, upper] = problem->bounding_box();
  hybrid.initialize(problem->get_mapping(), problem->get_dof_handler(), lower, upper);
  for (const std::uint64_t seed : {1u, 2u})
    {
      problem->sample(seed);
      problem->assemble();
      const mpno::LinearSystem system = problem->linear_system();
      dealii::Vector<double>   reference, solution;
      const auto               baseline = hybrid.solve_classically(system, reference);
      const auto               report   = hybrid.solve(system, {&problem->input_field(0)}, solution);
      EXPECT_TRUE(report.result.krylov.converged);
      EXPECT_LE(report.result.krylov.final_relative_residual, 1e-10);
      EXPECT_LE(system.relative_residual(solution), 1e-10);
      EXPECT_GT(report.result.krylov.iterations, 0u);
      EXPECT_EQ(hybrid.last_prediction().size(), solution.size());
      EXPECT_GT(report.inference_seconds, 0.);
      // Both answers solve the same system to 1e-10: they agree to about the condition
      // number times that.
      dealii::Vector<double> difference = solution;
      difference -= reference;
      EXPECT_LE(difference.l2_norm(), 1e-6 * reference.l2_norm());
      EXPECT_LE(baseline.result.krylov.final_relative_residual, 1e-10);
    }
}

TEST(HybridSolver, NonFinitePredictionFallsBackToZero)
{
  auto problem = small_darcy();
  auto hybrid  = hybrid_solver("initial guess");
  hybrid.set_surrogate(random_surrogate(/*poison=*/true));
  const auto [lower, upper] = problem->bounding_box();
  hybrid.initialize(problem->get_mapping(), problem->get_dof_handler(), lower, upper);
  problem->sample(4);
  problem->assemble();
  dealii::Vector<double> reference, solution;
  const auto             baseline = hybrid.solve_classically(problem->linear_system(), reference);
  const auto             report   = hybrid.solve(problem->linear_system(), {&problem->input_field(0)}, solution);
  EXPECT_FALSE(report.result.used_prediction);
  EXPECT_NE(report.result.fallback_reason.find("non-finite"), std::string::npos) << report.result.fallback_reason;
  EXPECT_LE(report.result.krylov.final_relative_residual, 1e-10);
  EXPECT_EQ(report.result.krylov.iterations, baseline.result.krylov.iterations);
}

TEST(HybridStrategy, ExactPredictionNeedsNoIteration)
{
  auto problem = small_darcy();
  problem->sample(9);
  problem->assemble();
  const mpno::LinearSystem system = problem->linear_system();
  dealii::Vector<double>   reference(system.rhs->size()), solution;
  mpno::KrylovSettings     settings;
  settings.relative_tolerance = 1e-9;
  mpno::solve_cg(system, reference, {1e-12, 1000, 3});
  auto       strategy = mpno::HybridStrategy::registry().create("initial guess");
  const auto result   = strategy->solve(system, &reference, solution, settings);
  EXPECT_TRUE(result.used_prediction);
  EXPECT_EQ(result.krylov.iterations, 0u);
  EXPECT_LE(result.krylov.initial_relative_residual, 1e-11);

  // A prediction with a larger residual than zero's is replaced by zero.
  dealii::Vector<double> bad = reference;
  bad *= 50.;
  const auto rejected = strategy->solve(system, &bad, solution, settings);
  EXPECT_FALSE(rejected.used_prediction);
  EXPECT_NE(rejected.fallback_reason.find("is not below the zero vector"), std::string::npos)
    << rejected.fallback_reason;
  EXPECT_LE(rejected.krylov.final_relative_residual, 1e-9);
}

TEST(HybridSolver, WrongNumberOfInputFieldsIsAnError)
{
  auto problem = small_darcy();
  auto hybrid  = hybrid_solver("initial guess");
  hybrid.set_surrogate(random_surrogate());
  const auto [lower, upper] = problem->bounding_box();
  hybrid.initialize(problem->get_mapping(), problem->get_dof_handler(), lower, upper);
  problem->sample(1);
  problem->assemble();
  dealii::Vector<double> solution;
  try
    {
      hybrid.solve(problem->linear_system(), {&problem->input_field(0), &problem->input_field(0)}, solution);
      FAIL() << "two input fields for a one-channel surrogate were accepted";
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("2 input fields given, the surrogate takes 1"), std::string::npos)
        << error.what();
    }
}

TEST(HybridSolver, UselessPredictionAsTheStartStillConverges)
{
  // The random-weights prediction itself as CG's initial guess, without the strategy's
  // acceptance test: the true residual still decides.
  auto problem = small_darcy();
  auto hybrid  = hybrid_solver("initial guess");
  hybrid.set_surrogate(random_surrogate());
  const auto [lower, upper] = problem->bounding_box();
  hybrid.initialize(problem->get_mapping(), problem->get_dof_handler(), lower, upper);
  problem->sample(11);
  problem->assemble();
  const mpno::LinearSystem system = problem->linear_system();
  dealii::Vector<double>   u;
  hybrid.predict({&problem->input_field(0)}, u);
  ASSERT_EQ(u.size(), system.rhs->size());
  const mpno::KrylovResult r = mpno::solve_cg(system, u, hybrid.krylov_settings());
  EXPECT_GT(r.initial_relative_residual, 1.); // useless indeed
  EXPECT_TRUE(r.converged);
  EXPECT_LE(system.relative_residual(u), 1e-10);
}

TEST(HybridStrategy, JacobiSmoothingRemovesRoughErrorAndKeepsConstraints)
{
  auto problem = small_darcy();
  problem->sample(12);
  problem->assemble();
  const mpno::LinearSystem system = problem->linear_system();
  dealii::Vector<double>   reference(system.rhs->size());
  mpno::solve_cg(system, reference, {1e-12, 1000, 3});
  // A prediction with a rough (per-DoF alternating) error of 1% of the solution's maximum.
  dealii::Vector<double> prediction = reference;
  for (unsigned int i = 0; i < prediction.size(); ++i)
    prediction(i) += (i % 2 == 0 ? 1. : -1.) * 0.01 * reference.linfty_norm();

  const auto strategy_with = [](const std::string &steps) {
    dealii::ParameterHandler prm;
    prm.enter_subsection("Hybrid solver");
    mpno::HybridStrategy::registry().declare_parameters(prm);
    prm.enter_subsection("Initial guess");
    prm.set("Smoothing steps", steps);
    prm.leave_subsection();
    auto strategy = mpno::HybridStrategy::registry().create("initial guess");
    strategy->parse_parameters(prm);
    prm.leave_subsection();
    return strategy;
  };
  mpno::KrylovSettings   settings;
  dealii::Vector<double> solution;
  const auto             plain    = strategy_with("0")->solve(system, &prediction, solution, settings);
  const auto             smoothed = strategy_with("5")->solve(system, &prediction, solution, settings);
  ASSERT_TRUE(plain.used_prediction);
  ASSERT_TRUE(smoothed.used_prediction);
  EXPECT_LT(smoothed.krylov.initial_relative_residual, 0.2 * plain.krylov.initial_relative_residual);
  EXPECT_LE(smoothed.krylov.iterations, plain.krylov.iterations);
  EXPECT_LE(smoothed.krylov.final_relative_residual, 1e-10);
  for (unsigned int i = 0; i < solution.size(); ++i)
    {
      if (system.constraints->is_constrained(i))
        {
          ASSERT_EQ(solution(i), 0.) << i;
        }
    }
}
