// A small assembled Darcy system for the tests of solve_cg and ComposedPreconditioner.
#pragma once

#include <mpno/coupling/darcy.h>

#include <memory>

namespace mpno::test
{
  /// A Darcy system on 16^2 cells with a = 2, f = 1, AMG set up.
  inline std::unique_ptr<DarcySolver>
  assembled_darcy_solver()
  {
    DarcyParameters parameters;
    parameters.n_cells_per_side = 16;
    auto solver                 = std::make_unique<DarcySolver>(parameters);
    solver->assemble_system(dealii::Functions::ConstantFunction<2>(2.));
    solver->setup_amg();
    return solver;
  }
} // namespace mpno::test
