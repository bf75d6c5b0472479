// Strategy `preconditioner` (issue 5): flexible CG with the operator applied to the
// residual. An exact action converges in one step, every classical part keeps a
// useless (random-weight) or broken operator at the residual tolerance or says it fell
// back.
#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/surrogate_model.h>
#include <mpno/plugin/hybrid_solver.h>
#include <mpno/plugin/problem.h>

#include "../coupling/mpi_environment.h"
#include "surrogate_model_impl.h"

#include <mpno/surrogate/fno.h>

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace
{
  const bool mpi_ready = mpno::test::ensure_mpi();

  /** Darcy on a 32^2 mesh with a random right-hand side (two input fields). */
  std::unique_ptr<mpno::Problem::Interface<2>>
  darcy_with_random_forcing()
  {
    dealii::ParameterHandler prm;
    prm.enter_subsection("Problem");
    mpno::Problem::registry<2>().declare_parameters(prm);
    prm.enter_subsection("Darcy");
    prm.set("Cells per side", "32");
    prm.set("Coefficient grid points", "16");
    prm.set("Forcing", "random");
    prm.leave_subsection();
    auto problem = mpno::Problem::registry<2>().create("darcy");
    problem->parse_parameters(prm);
    prm.leave_subsection();
    problem->setup();
    return problem;
  }

  std::unique_ptr<mpno::HybridStrategy::Interface>
  strategy_with(const std::string &classical)
  {
    dealii::ParameterHandler prm;
    prm.enter_subsection("Hybrid solver");
    mpno::HybridStrategy::registry().declare_parameters(prm);
    prm.enter_subsection("Preconditioner");
    prm.set("Classical part", classical);
    prm.set("Max FCG iterations", "40");
    prm.leave_subsection();
    auto strategy = mpno::HybridStrategy::registry().create("preconditioner");
    strategy->parse_parameters(prm);
    prm.leave_subsection();
    return strategy;
  }

  std::shared_ptr<const mpno::SurrogateModel>
  random_two_channel_surrogate(const bool poison)
  {
    torch::manual_seed(4);
    mpno::FNOOptions options;
    options.in_channels     = 2;
    options.n_modes         = {4, 4};
    options.hidden_channels = 8;
    options.n_layers        = 2;
    auto impl               = std::make_unique<mpno::SurrogateModel::Impl>();
    impl->loaded.model      = mpno::FNO(options).ptr();
    if (poison)
      {
        torch::NoGradGuard no_grad;
        for (auto &p : impl->loaded.model->parameters())
          p.fill_(std::numeric_limits<float>::infinity());
      }
    return std::make_shared<const mpno::SurrogateModel>(std::move(impl));
  }
} // namespace

TEST(PreconditionerStrategy, ExactActionConvergesInOneStep)
{
  auto problem = darcy_with_random_forcing();
  problem->sample(31);
  problem->assemble();
  const mpno::LinearSystem system   = problem->linear_system();
  auto                     strategy = strategy_with("none");
  ASSERT_TRUE(strategy->uses_surrogate_action());
  ASSERT_FALSE(strategy->uses_prediction());
  // The action A^{-1} r (CG to 1e-13): flexible CG needs one step.
  strategy->set_surrogate_action([&](const dealii::Vector<double> &r, dealii::Vector<double> &z) {
    z.reinit(r.size());
    const mpno::LinearSystem for_r{system.matrix, &r, system.constraints, &system.get_preconditioner()};
    mpno::solve_cg(for_r, z, {1e-13, 1000, 3});
  });
  dealii::Vector<double> solution;
  const auto             result = strategy->solve(system, nullptr, solution, {});
  EXPECT_TRUE(result.fallback_reason.empty()) << result.fallback_reason;
  EXPECT_EQ(result.strategy_iterations, 1u);
  EXPECT_LE(system.relative_residual(solution), 1e-10);
}

TEST(PreconditionerStrategy, UselessOrBrokenOperatorsStillReachTheTolerance)
{
  auto problem = darcy_with_random_forcing();
  for (const bool poison : {false, true})
    for (const std::string classical : {"amg", "jacobi", "none"})
      {
        dealii::ParameterHandler prm;
        mpno::HybridSolver<2>::declare_parameters(prm);
        prm.enter_subsection("Hybrid solver");
        prm.set("Strategy", "preconditioner");
        prm.set("Inference grid points", "16");
        prm.enter_subsection("Preconditioner");
        prm.set("Classical part", classical);
        prm.set("Max FCG iterations", "40");
        prm.leave_subsection();
        prm.leave_subsection();
        mpno::HybridSolver<2> hybrid;
        hybrid.parse_parameters(prm);
        hybrid.set_surrogate(random_two_channel_surrogate(poison));
        const auto [lower, upper] = problem->bounding_box();
        hybrid.initialize(problem->get_mapping(), problem->get_dof_handler(), lower, upper);
        problem->sample(32);
        problem->assemble();
        const mpno::LinearSystem system = problem->linear_system();
        dealii::Vector<double>   solution;
        const auto        report = hybrid.solve(system, {&problem->input_field(0), &problem->input_field(1)}, solution);
        const std::string what   = classical + (poison ? ", non-finite operator" : ", random operator");
        EXPECT_LE(system.relative_residual(solution), 1e-10) << what;
        EXPECT_TRUE(report.result.krylov.converged) << what;
        EXPECT_GT(report.inference_seconds, 0.) << what;
        if (poison)
          {
            EXPECT_NE(report.result.fallback_reason.find("non-finite"), std::string::npos)
              << what << ": " << report.result.fallback_reason;
          }
        // Converged by FCG, or fell back and said so.
        EXPECT_TRUE(report.result.used_prediction || !report.result.fallback_reason.empty()) << what;
      }
}

TEST(PreconditionerStrategy, OneChannelSurrogateIsAnError)
{
  auto problem = darcy_with_random_forcing();
  torch::manual_seed(4);
  mpno::FNOOptions options;
  options.n_modes         = {4, 4};
  options.hidden_channels = 8;
  options.n_layers        = 2;
  auto impl               = std::make_unique<mpno::SurrogateModel::Impl>();
  impl->loaded.model      = mpno::FNO(options).ptr();
  dealii::ParameterHandler prm;
  mpno::HybridSolver<2>::declare_parameters(prm);
  prm.enter_subsection("Hybrid solver");
  prm.set("Strategy", "preconditioner");
  prm.set("Inference grid points", "16");
  prm.leave_subsection();
  mpno::HybridSolver<2> hybrid;
  hybrid.parse_parameters(prm);
  hybrid.set_surrogate(std::make_shared<const mpno::SurrogateModel>(std::move(impl)));
  const auto [lower, upper] = problem->bounding_box();
  hybrid.initialize(problem->get_mapping(), problem->get_dof_handler(), lower, upper);
  problem->sample(33);
  problem->assemble();
  dealii::Vector<double> solution;
  try
    {
      hybrid.solve(problem->linear_system(), {&problem->input_field(0)}, solution);
      FAIL() << "a one-channel surrogate was accepted as a preconditioner";
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("last input channel is the right-hand side"), std::string::npos)
        << error.what();
    }
}
