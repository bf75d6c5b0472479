// Time stepping (issue 5): the heat equation u_t - div(a grad u) = f on the unit square,
// u = 0 on the boundary, by implicit Euler steps, each a DarcySolver system with the
// reaction term 1 / dt. deal.II headers only.
#pragma once

#include <deal.II/base/function.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/darcy.h>
#include <mpno/coupling/grid_transfer.h>
#include <mpno/coupling/random_field.h>

#include <cstdint>
#include <limits>
#include <memory>

namespace mpno
{
  /** Settings of HeatEquation. */
  struct HeatParameters
  {
    /** Mesh: n x n Q1 cells (Q1 is required: the state is its vertex values). */
    unsigned int n_cells_per_side = 64;
    /** The time step dt (time units: the unit square's diffusion time with a = 1). */
    double time_step = 2e-3;
    /** The constant source f. */
    double forcing = 10.;
    /** Random inputs: the coefficient a is Darcy's thresholded Gaussian random field on a
     *  grid of this many points per side, piecewise constant; the initial state is an
     *  independent field on the same grid, bilinear, times 16 x (1 - x) y (1 - y). */
    unsigned int coefficient_grid_points = 32;
    double       alpha = 2., tau = 3., high = 12., low = 3.;
    /** Trajectories have steps 0 .. max_steps - 1: instance `seed` is step
     *  seed % max_steps of trajectory seed / max_steps. */
    unsigned int max_steps = 10;
  };

  /**
   * One trajectory of implicit Euler steps (M/dt + A_a) u^{n+1} = M u^n / dt + F, i.e.
   * -div(a grad u^{n+1}) + u^{n+1} / dt = f + u^n / dt, assembled and solved by
   * DarcySolver (Q1, CG + ML AMG). The state u^n is an FE vector; as a function
   * (state_function()) it is the bilinear interpolant of its vertex values, which is the
   * Q1 field itself. Instances: sample(seed) draws a and u^0 of trajectory
   * seed / max_steps and advances seed % max_steps steps classically, so that the states
   * of the data lie on trajectories and consecutive seeds follow one.
   */
  class HeatEquation
  {
  public:
    /** @throws std::invalid_argument naming the setting for dt <= 0 or max_steps = 0. */
    explicit HeatEquation(const HeatParameters &parameters = HeatParameters());

    /** Not copyable or movable: the vertex transfer points into the solver's mesh. */
    HeatEquation(const HeatEquation &) = delete;
    HeatEquation &
    operator=(const HeatEquation &) = delete;

    /** Draw a and u^0 of trajectory @p seed / max_steps and advance seed % max_steps steps
     *  (each solved to 1e-12). The classical states of the last trajectory are cached: a
     *  later step of it (e.g. seed + 1) costs only the steps in between. */
    void
    sample(std::uint64_t seed);

    /** Assemble the step from the current state u^n. */
    void
    assemble_step();

    /** The step's system (valid until the next assemble_step()). */
    LinearSystem
    linear_system() const
    {
      return solver.linear_system();
    }

    /** Make @p next (size n_dofs) the current state u^{n+1}. */
    void
    advance(const dealii::Vector<double> &next);

    /** The current state u^n (size n_dofs). */
    const dealii::Vector<double> &
    state() const
    {
      return current;
    }

    /** The current state as a function of x (exact for the Q1 field). */
    const dealii::Function<2> &
    state_function() const;

    /** The coefficient a of the trajectory. @throws std::logic_error before sample(). */
    const dealii::Function<2> &
    coefficient() const;

    /** The steps taken since u^0 (seed % max_steps after sample()). */
    unsigned int
    step() const
    {
      return steps;
    }

    const DarcySolver &
    get_solver() const
    {
      return solver;
    }

    const HeatParameters &
    get_parameters() const
    {
      return parameters;
    }

  private:
    void
    update_state_function();

    HeatParameters                       parameters;
    DarcySolver                          solver;
    GridTransfer<2>                      vertices;
    GaussianRandomField<2>               field;
    std::unique_ptr<dealii::Function<2>> a;
    std::unique_ptr<GridFunction>        state_on_vertices;
    dealii::Vector<double>               current;
    unsigned int                         steps = 0;
    /** The last trajectory sampled and its latest classical state and step. */
    std::uint64_t          cached_trajectory = std::numeric_limits<std::uint64_t>::max();
    dealii::Vector<double> cached_state;
    unsigned int           cached_step = 0;
  };
} // namespace mpno
