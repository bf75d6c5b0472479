// HeatEquation (issue 5, time stepping): consecutive seeds follow one trajectory, an
// implicit Euler step with a huge time step reaches the steady (Darcy) solution, and a
// step from the steady state stays there.
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/lac/vector.h>
#include <deal.II/numerics/vector_tools_integrate_difference.h>

#include <mpno/coupling/darcy.h>
#include <mpno/coupling/heat.h>
#include <mpno/coupling/linear_solve.h>

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "mpi_environment.h"

namespace
{
  const bool mpi_ready = mpno::test::ensure_mpi();

  mpno::HeatParameters
  small(const double time_step)
  {
    mpno::HeatParameters p;
    p.n_cells_per_side        = 16;
    p.coefficient_grid_points = 16;
    p.time_step               = time_step;
    p.max_steps               = 4;
    return p;
  }

  /** The next state from the current one, to 1e-12. */
  dealii::Vector<double>
  step(mpno::HeatEquation &heat)
  {
    heat.assemble_step();
    dealii::Vector<double> next = heat.state();
    mpno::solve_cg(heat.linear_system(), next, {1e-12, 1000, 3});
    return next;
  }

  double
  relative_difference(const dealii::Vector<double> &u, const dealii::Vector<double> &v)
  {
    dealii::Vector<double> d = u;
    d -= v;
    return d.l2_norm() / v.l2_norm();
  }
} // namespace

TEST(HeatEquation, ConsecutiveSeedsFollowOneTrajectory)
{
  mpno::HeatEquation heat(small(2e-3));
  heat.sample(8); // trajectory 2, step 0
  EXPECT_EQ(heat.step(), 0u);
  const dealii::Vector<double> next = step(heat);
  heat.sample(9); // trajectory 2, step 1
  EXPECT_EQ(heat.step(), 1u);
  EXPECT_LT(relative_difference(heat.state(), next), 1e-9);
  heat.sample(13); // trajectory 3, step 1: another trajectory
  EXPECT_GT(relative_difference(heat.state(), next), 1e-2);
}

TEST(HeatEquation, AHugeStepReachesTheSteadyState)
{
  // -div(a grad u) + u / dt = f + u^0 / dt with dt = 1e8: the Darcy solution up to 1e-7.
  mpno::HeatEquation heat(small(1e8));
  heat.sample(0);
  const dealii::Vector<double> next = step(heat);
  mpno::DarcyParameters        d;
  d.n_cells_per_side = 16;
  mpno::DarcySolver darcy(d);
  darcy.assemble_system(heat.coefficient(), dealii::Functions::ConstantFunction<2>(heat.get_parameters().forcing));
  dealii::Vector<double> steady(next.size());
  mpno::solve_cg(darcy.linear_system(), steady, {1e-12, 1000, 3});
  EXPECT_LT(relative_difference(next, steady), 1e-6);

  // From the steady state, a step of any size stays there.
  mpno::HeatEquation stepper(small(1e-3));
  stepper.sample(0);
  stepper.advance(steady);
  EXPECT_LT(relative_difference(step(stepper), steady), 1e-9);
}

TEST(HeatEquation, TheStepOperatorIsStiffnessPlusMassOverDt)
{
  // v^T (A_step - K_a) v = ||v_h||^2 / dt for v vanishing on the boundary.
  const double       dt = 3e-3;
  mpno::HeatEquation heat(small(dt));
  heat.sample(2);
  heat.assemble_step();
  const mpno::LinearSystem step = heat.linear_system();
  mpno::DarcyParameters    d;
  d.n_cells_per_side = 16;
  mpno::DarcySolver darcy(d);
  darcy.assemble_system(heat.coefficient());
  const mpno::LinearSystem stiffness = darcy.linear_system();

  std::mt19937                           generator(3);
  std::uniform_real_distribution<double> uniform(-1., 1.);
  dealii::Vector<double>                 v(heat.state().size()), av(v.size()), kv(v.size());
  for (double &x : v)
    x = uniform(generator);
  step.constraints->set_zero(v);
  step.matrix->vmult(av, v);
  stiffness.matrix->vmult(kv, v);
  const auto           &dof_handler = heat.get_solver().get_dof_handler();
  dealii::Vector<float> cellwise(dof_handler.get_triangulation().n_active_cells());
  dealii::VectorTools::integrate_difference(dof_handler,
                                            v,
                                            dealii::Functions::ZeroFunction<2>(),
                                            cellwise,
                                            dealii::QGauss<2>(3),
                                            dealii::VectorTools::L2_norm);
  const double mass = std::pow(dealii::VectorTools::compute_global_error(dof_handler.get_triangulation(),
                                                                         cellwise,
                                                                         dealii::VectorTools::L2_norm),
                               2);
  // integrate_difference keeps the cellwise norms in float: agreement to ~1e-9.
  EXPECT_NEAR(v * av - v * kv, mass / dt, 1e-7 * mass / dt);
}

TEST(HeatEquation, BadSettingsAreNamed)
{
  EXPECT_THROW(mpno::HeatEquation(small(0.)), std::invalid_argument);
  mpno::HeatParameters p = small(1e-3);
  p.max_steps            = 0;
  EXPECT_THROW((mpno::HeatEquation(p)), std::invalid_argument);
  mpno::HeatEquation heat(small(1e-3));
  EXPECT_THROW(heat.assemble_step(), std::logic_error);
}
