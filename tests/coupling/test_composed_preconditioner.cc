// ComposedPreconditioner (coupling/include/mpno/coupling/composed_preconditioner.h):
// each part sees the residual the previous ones leave; energy scaling gives the
// multiple of a correction closest to the error in the energy norm.
#include <mpno/coupling/composed_preconditioner.h>
#include <mpno/coupling/darcy.h>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "darcy_system.h"
#include "mpi_environment.h"

namespace
{
  [[maybe_unused]] const bool mpi_ready = mpno::test::ensure_mpi();

  using Part = mpno::ComposedPreconditioner::Part;

  /// d = factor B s for the system's AMG B, constrained entries zeroed.
  Part
  amg_part(const mpno::LinearSystem &system, const double factor = 1., const bool energy_scaling = false)
  {
    return {[&system, factor](dealii::Vector<double> &d, const dealii::Vector<double> &s) {
              system.get_preconditioner().vmult(d, s);
              system.constraints->set_zero(d);
              d *= factor;
            },
            energy_scaling};
  }

  void
  expect_near(const dealii::Vector<double> &actual, const dealii::Vector<double> &expected)
  {
    ASSERT_EQ(actual.size(), expected.size());
    dealii::Vector<double> difference = actual;
    difference -= expected;
    EXPECT_LE(difference.linfty_norm(), 1e-12 * expected.linfty_norm());
  }
} // namespace

TEST(ComposedPreconditioner, SecondPartSeesTheResidualTheFirstLeaves)
{
  const auto                    solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem      system = solver->linear_system();
  const auto                   &B      = system.get_preconditioner();
  const dealii::Vector<double> &r      = *system.rhs;

  // By hand: z1 = B r, z = z1 + B (r - A z1).
  dealii::Vector<double> z1(r.size()), left(r.size()), expected(r.size());
  B.vmult(z1, r);
  system.constraints->set_zero(z1);
  system.matrix->vmult(left, z1);
  left.sadd(-1., 1., r);
  system.constraints->set_zero(left);
  B.vmult(expected, left);
  system.constraints->set_zero(expected);
  expected += z1;

  dealii::Vector<double> z;
  mpno::ComposedPreconditioner(system, {amg_part(system), amg_part(system)}).vmult(z, r);
  expect_near(z, expected);
  // One part is the part itself.
  mpno::ComposedPreconditioner(system, {amg_part(system)}).vmult(z, r);
  expect_near(z, z1);
}

TEST(ComposedPreconditioner, EnergyScalingTakesTheBestMultiple)
{
  const auto                    solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem      system = solver->linear_system();
  const dealii::Vector<double> &r      = *system.rhs;

  // By hand: c = B r, alpha = c^T r / c^T A c.
  dealii::Vector<double> c(r.size()), ac(r.size());
  system.get_preconditioner().vmult(c, r);
  system.constraints->set_zero(c);
  system.matrix->vmult(ac, c);
  const double alpha = (c * r) / (c * ac);
  EXPECT_GT(alpha, 0.5); // the AMG is close to A^{-1}, not to a tenth of it
  dealii::Vector<double> expected = c;
  expected *= alpha;

  // Scaled, a part's factor does not matter; unscaled, it does.
  dealii::Vector<double> z;
  for (const double factor : {1., 10., -3.})
    {
      mpno::ComposedPreconditioner(system, {amg_part(system, factor, true)}).vmult(z, r);
      expect_near(z, expected);
    }
  mpno::ComposedPreconditioner(system, {amg_part(system, 10.)}).vmult(z, r);
  expected = c;
  expected *= 10.;
  expect_near(z, expected);

  // A zero correction (c^T A c = 0) is dropped, not divided by.
  const Part zero{[](dealii::Vector<double> &d, const dealii::Vector<double> &s) { d.reinit(s.size()); }, true};
  mpno::ComposedPreconditioner(system, {zero, amg_part(system)}).vmult(z, r);
  expect_near(z, c);
}

TEST(ComposedPreconditioner, APartsExceptionPassesThrough)
{
  const auto               solver = mpno::test::assembled_darcy_solver();
  const mpno::LinearSystem system = solver->linear_system();
  const Part               failing{
    [](dealii::Vector<double> &, const dealii::Vector<double> &) { throw std::runtime_error("part failed"); }};
  dealii::Vector<double> z;
  EXPECT_THROW(mpno::ComposedPreconditioner(system, {amg_part(system), failing}).vmult(z, *system.rhs),
               std::runtime_error);
}
