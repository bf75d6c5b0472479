// Strategy `replace` (issue 5): an answer is accepted only when the computed bound of its
// relative energy-norm error passes the tolerance, the bound is an upper bound of the
// true error, and a useless (random-weight) surrogate still ends at the residual
// tolerance or at a certified answer.
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
#include <iostream>
#include <limits>
#include <random>

namespace
{
  const bool mpi_ready = mpno::test::ensure_mpi();

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

  std::unique_ptr<mpno::HybridStrategy::Interface>
  replace_strategy(const std::string &tolerance, const std::string &iterations, const std::string &start = "prediction")
  {
    dealii::ParameterHandler prm;
    prm.enter_subsection("Hybrid solver");
    mpno::HybridStrategy::registry().declare_parameters(prm);
    prm.enter_subsection("Replace");
    prm.set("Error tolerance", tolerance);
    prm.set("Max certificate iterations", iterations);
    prm.set("Initial guess", start);
    prm.leave_subsection();
    auto strategy = mpno::HybridStrategy::registry().create("replace");
    strategy->parse_parameters(prm);
    prm.leave_subsection();
    return strategy;
  }

  double
  energy_norm(const mpno::LinearSystem &system, const dealii::Vector<double> &v)
  {
    dealii::Vector<double> av(v.size());
    system.matrix->vmult(av, v);
    return std::sqrt(v * av);
  }

  /** ||u - u_h||_A / ||u_h||_A. */
  double
  relative_energy_error(const mpno::LinearSystem     &system,
                        const dealii::Vector<double> &u,
                        const dealii::Vector<double> &reference)
  {
    dealii::Vector<double> e = u;
    e -= reference;
    return energy_norm(system, e) / energy_norm(system, reference);
  }

  dealii::Vector<double>
  discrete_solution(const mpno::LinearSystem &system)
  {
    dealii::Vector<double> u(system.rhs->size());
    mpno::solve_cg(system, u, {1e-12, 1000, 3});
    return u;
  }
} // namespace

TEST(ReplaceStrategy, BoundIsAnUpperBoundOfTheTrueError)
{
  auto problem = small_darcy();
  problem->sample(21);
  problem->assemble();
  const mpno::LinearSystem     system    = problem->linear_system();
  const dealii::Vector<double> reference = discrete_solution(system);
  ASSERT_NE(system.reference_preconditioner, nullptr);
  ASSERT_GT(system.reference_bound, 0.);
  // Without certificate iterations the bound is that of the prediction itself; a huge
  // tolerance accepts every prediction and reports its bound.
  const auto         strategy  = replace_strategy("0.999", "0");
  const unsigned int n         = reference.size();
  unsigned int       certified = 0;
  for (const double size : {1e-4, 1e-3, 3e-3})
    for (const bool rough : {false, true})
      {
        dealii::Vector<double> prediction = reference;
        for (unsigned int i = 0; i < n; ++i)
          prediction(i) += size * reference.linfty_norm() *
                           (rough ? (i % 2 == 0 ? 1. : -1.) : std::sin(3.1 * i / n) * std::cos(0.05 * i));
        dealii::Vector<double>             solution;
        const mpno::HybridStrategy::Result result = strategy->solve(system, &prediction, solution, {});
        const double                       truth  = relative_energy_error(system, solution, reference);
        if (!result.certified)
          continue;
        ++certified;
        EXPECT_GE(result.error_bound, truth) << "size " << size << (rough ? " rough" : " smooth");
        // ... and not wildly pessimistic (a <= 4 a_min and the AMG's spectral bounds).
        EXPECT_LE(result.error_bound, 4. * truth + 1e-12) << "size " << size << (rough ? " rough" : " smooth");
        std::cout << "perturbation " << size << (rough ? " rough" : " smooth") << ": bound " << result.error_bound
                  << ", true relative energy-norm error " << truth << "\n";
      }
  EXPECT_EQ(certified, 6u);
}

TEST(ReplaceStrategy, ExactPredictionIsCertifiedWithoutIterations)
{
  auto problem = small_darcy();
  problem->sample(22);
  problem->assemble();
  const mpno::LinearSystem     system    = problem->linear_system();
  const dealii::Vector<double> reference = discrete_solution(system);
  dealii::Vector<double>       solution;
  const auto                   result = replace_strategy("0.02", "10")->solve(system, &reference, solution, {});
  EXPECT_TRUE(result.certified);
  EXPECT_TRUE(result.used_prediction);
  EXPECT_EQ(result.strategy_iterations, 0u);
  EXPECT_LE(result.error_bound, 1e-5);
  EXPECT_EQ(result.krylov.iterations, 0u);
}

TEST(ReplaceStrategy, RandomWeightsEndCertifiedOrAtTheResidualTolerance)
{
  auto problem = small_darcy();
  torch::manual_seed(3);
  mpno::FNOOptions options;
  options.n_modes         = {4, 4};
  options.hidden_channels = 8;
  options.n_layers        = 2;
  auto impl               = std::make_unique<mpno::SurrogateModel::Impl>();
  impl->loaded.model      = mpno::FNO(options).ptr();
  const auto model        = std::make_shared<const mpno::SurrogateModel>(std::move(impl));

  for (const std::string iterations : {"0", "3"})
    {
      dealii::ParameterHandler prm;
      mpno::HybridSolver<2>::declare_parameters(prm);
      prm.enter_subsection("Hybrid solver");
      prm.set("Strategy", "replace");
      prm.set("Inference grid points", "16");
      prm.enter_subsection("Replace");
      prm.set("Error tolerance", "0.02");
      prm.set("Max certificate iterations", iterations);
      prm.leave_subsection();
      prm.leave_subsection();
      mpno::HybridSolver<2> hybrid;
      hybrid.parse_parameters(prm);
      hybrid.set_surrogate(model);
      const auto [lower, upper] = problem->bounding_box();
      hybrid.initialize(problem->get_mapping(), problem->get_dof_handler(), lower, upper);
      for (const std::uint64_t seed : {1u, 2u, 3u})
        {
          problem->sample(seed);
          problem->assemble();
          const mpno::LinearSystem     system    = problem->linear_system();
          const dealii::Vector<double> reference = discrete_solution(system);
          dealii::Vector<double>       solution;
          const auto                   report = hybrid.solve(system, {&problem->input_field(0)}, solution);
          const auto                  &r      = report.result;
          if (r.certified)
            {
              EXPECT_LE(r.error_bound, 0.02);
              EXPECT_LE(relative_energy_error(system, solution, reference), r.error_bound);
            }
          else
            {
              EXPECT_FALSE(r.fallback_reason.empty());
              EXPECT_NE(r.fallback_reason.find("classical solve continued"), std::string::npos) << r.fallback_reason;
              EXPECT_LE(system.relative_residual(solution), 1e-10);
            }
          if (iterations == "0")
            {
              // An untrained operator's answer is never accepted as it is.
              EXPECT_FALSE(r.certified);
              EXPECT_GT(r.error_bound, 0.02);
            }
        }
    }
}

TEST(ReplaceStrategy, FromZeroIsTheCertifiedSolveWithoutSurrogate)
{
  auto problem = small_darcy();
  problem->sample(23);
  problem->assemble();
  const mpno::LinearSystem     system    = problem->linear_system();
  const dealii::Vector<double> reference = discrete_solution(system);
  auto                         strategy  = replace_strategy("0.01", "50", "zero");
  EXPECT_FALSE(strategy->uses_prediction());
  dealii::Vector<double> solution;
  const auto             result = strategy->solve(system, nullptr, solution, {});
  ASSERT_TRUE(result.certified);
  EXPECT_FALSE(result.used_prediction);
  EXPECT_GT(result.strategy_iterations, 0u);
  EXPECT_LE(result.error_bound, 0.01);
  EXPECT_LE(relative_energy_error(system, solution, reference), result.error_bound);
}

TEST(ReplaceStrategy, ReferenceBoundHoldsForEachProblem)
{
  // e^T A e <= C r^T B_0 r (r = A e) for the reference preconditioner and constant each
  // built-in problem sets, for a smooth e (the discrete solution) and a rough one.
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> problems{
    {"darcy", {{"Cells per side", "32"}, {"Coefficient grid points", "16"}}},
    {"heat", {{"Cells per side", "32"}, {"Coefficient grid points", "16"}}},
    {"sphere", {{"Refinements", "3"}, {"Maximum degree", "8"}}}};
  for (const auto &[name, entries] : problems)
    {
      dealii::ParameterHandler prm;
      prm.enter_subsection("Problem");
      mpno::Problem::registry<2>().declare_parameters(prm);
      prm.enter_subsection(name == "darcy" ? "Darcy" : name == "heat" ? "Heat" : "Sphere");
      for (const auto &[entry, value] : entries)
        prm.set(entry, value);
      prm.leave_subsection();
      auto problem = mpno::Problem::registry<2>().create(name);
      problem->parse_parameters(prm);
      prm.leave_subsection();
      problem->setup();
      problem->sample(17);
      problem->assemble();
      const mpno::LinearSystem system = problem->linear_system();
      ASSERT_NE(system.reference_preconditioner, nullptr) << name;
      std::mt19937                           generator(5);
      std::uniform_real_distribution<double> uniform(-1., 1.);
      dealii::Vector<double>                 rough(system.rhs->size());
      for (double &x : rough)
        x = uniform(generator);
      for (dealii::Vector<double> e : {discrete_solution(system), rough})
        {
          system.constraints->set_zero(e);
          dealii::Vector<double> r(e.size()), z(e.size());
          system.matrix->vmult(r, e);
          system.constraints->set_zero(r);
          system.reference_preconditioner->vmult(z, r);
          const double bound = std::sqrt(system.reference_bound * (r * z));
          EXPECT_GE(bound, std::sqrt(e * r)) << name;
          EXPECT_LT(bound, 10. * std::sqrt(e * r)) << name << ": a bound, but not a useful one";
        }
    }
}

TEST(ReplaceStrategy, ToleranceOutsideZeroOneIsAnError)
{
  EXPECT_THROW(replace_strategy("1.5", "3"), std::invalid_argument);
  EXPECT_THROW(replace_strategy("0", "3"), std::invalid_argument);
}

TEST(ReplaceStrategy, CertifiedAnswerSkipsTheInstanceAmg)
{
  auto problem = small_darcy();
  problem->sample(24);
  problem->assemble();
  mpno::LinearSystem           system    = problem->linear_system();
  const dealii::Vector<double> reference = discrete_solution(system);
  // A fresh assembly, its preconditioner builds counted.
  problem->assemble();
  system                     = problem->linear_system();
  unsigned int builds        = 0;
  const auto   build         = system.make_preconditioner;
  system.make_preconditioner = [&]() -> const dealii::TrilinosWrappers::PreconditionBase & {
    ++builds;
    return build();
  };
  dealii::Vector<double> prediction = reference, solution;
  for (unsigned int i = 0; i < prediction.size(); ++i)
    prediction(i) *= 1. + 0.002 * std::sin(0.3 * i);
  const auto result = replace_strategy("0.02", "10")->solve(system, &prediction, solution, {});
  ASSERT_TRUE(result.certified) << result.fallback_reason;
  EXPECT_EQ(builds, 0u);
  EXPECT_LE(relative_energy_error(system, solution, reference), result.error_bound);
}

TEST(ReplaceStrategy, NoCertificateWithoutAReferenceOrWithAnIndefiniteOne)
{
  auto problem = small_darcy();
  problem->sample(25);
  problem->assemble();
  mpno::LinearSystem           system    = problem->linear_system();
  const dealii::Vector<double> reference = discrete_solution(system);
  auto                         strategy  = replace_strategy("0.5", "10");
  dealii::Vector<double>       solution;

  // No reference preconditioner: the classical solve, and it says why.
  mpno::LinearSystem without       = system;
  without.reference_preconditioner = nullptr;
  const auto plain                 = strategy->solve(without, &reference, solution, {});
  EXPECT_FALSE(plain.certified);
  EXPECT_NE(plain.fallback_reason.find("no reference preconditioner"), std::string::npos) << plain.fallback_reason;
  EXPECT_LE(system.relative_residual(solution), 1e-10);

  // A negative definite "preconditioner" (-1 x Jacobi): never certified.
  dealii::TrilinosWrappers::PreconditionJacobi                 negative;
  dealii::TrilinosWrappers::PreconditionJacobi::AdditionalData data;
  data.omega = -1.;
  negative.initialize(*system.matrix, data);
  mpno::LinearSystem indefinite       = system;
  indefinite.reference_preconditioner = &negative;
  dealii::Vector<double> prediction   = reference;
  prediction *= 1.001;
  const auto rejected = strategy->solve(indefinite, &prediction, solution, {});
  EXPECT_FALSE(rejected.certified);
  EXPECT_NE(rejected.fallback_reason.find("not positive definite"), std::string::npos) << rejected.fallback_reason;
  EXPECT_LE(system.relative_residual(solution), 1e-10);

  // A non-finite prediction: not used, the classical solve from zero.
  prediction(3)     = std::numeric_limits<double>::quiet_NaN();
  const auto broken = strategy->solve(system, &prediction, solution, {});
  EXPECT_FALSE(broken.used_prediction);
  EXPECT_NE(broken.fallback_reason.find("non-finite"), std::string::npos) << broken.fallback_reason;
  EXPECT_LE(system.relative_residual(solution), 1e-10);
}
