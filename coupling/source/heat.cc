#include <deal.II/numerics/vector_tools_interpolate.h>

#include <mpno/coupling/heat.h>

#include <stdexcept>
#include <string>

namespace mpno
{
  namespace
  {
    DarcyParameters
    darcy_parameters(const HeatParameters &p)
    {
      if (!(p.time_step > 0))
        throw std::invalid_argument("HeatEquation: the time step must be > 0, got " + std::to_string(p.time_step));
      if (p.max_steps == 0)
        throw std::invalid_argument("HeatEquation: max_steps must be >= 1");
      DarcyParameters d;
      d.n_cells_per_side = p.n_cells_per_side;
      d.fe_degree        = 1;
      return d;
    }

    std::array<unsigned int, 2>
    vertex_grid(const HeatParameters &p)
    {
      return {p.n_cells_per_side + 1, p.n_cells_per_side + 1};
    }

    /** f + u / dt. */
    class StepForcing : public dealii::Function<2>
    {
    public:
      StepForcing(const double f, const dealii::Function<2> &u, const double dt)
        : f(f)
        , u(u)
        , dt(dt)
      {
      }
      double
      value(const dealii::Point<2> &p, const unsigned int = 0) const override
      {
        return f + u.value(p) / dt;
      }

    private:
      double                     f;
      const dealii::Function<2> &u;
      double                     dt;
    };
  } // namespace

  HeatEquation::HeatEquation(const HeatParameters &parameters)
    : parameters(parameters)
    , solver(darcy_parameters(parameters))
    , vertices(solver.get_dof_handler(), vertex_grid(parameters))
    , field(parameters.coefficient_grid_points, parameters.alpha, parameters.tau)
  {
  }

  void
  HeatEquation::update_state_function()
  {
    const unsigned int  n = parameters.n_cells_per_side + 1;
    std::vector<double> values(std::size_t(n) * n);
    vertices.fe_to_grid(current, dealii::make_array_view(values));
    state_on_vertices = std::make_unique<GridFunction>(n, n, std::move(values), GridFunction::Interpolation::bilinear);
  }

  void
  HeatEquation::sample(const std::uint64_t seed)
  {
    // Seeds t K .. t K + K - 1 (K = max_steps) are the steps 0 .. K - 1 of trajectory t.
    const std::uint64_t trajectory = seed / parameters.max_steps;
    const unsigned int  target     = static_cast<unsigned int>(seed % parameters.max_steps);
    const unsigned int  m          = parameters.coefficient_grid_points;
    if (trajectory != cached_trajectory || target < cached_step)
      {
        const auto values      = field.sample(trajectory);
        a                      = std::make_unique<GridFunction>(m,
                                           m,
                                           threshold(values, parameters.high, parameters.low),
                                           GridFunction::Interpolation::piecewise_constant);
        std::vector<double> u0 = field.sample(trajectory ^ 0x5851f42d4c957f2dull);
        for (unsigned int i = 0; i < m; ++i)
          for (unsigned int j = 0; j < m; ++j)
            {
              const double x = double(i) / (m - 1), y = double(j) / (m - 1);
              u0[i * m + j] *= 16. * x * (1. - x) * y * (1. - y);
            }
        const GridFunction initial(m, m, std::move(u0), GridFunction::Interpolation::bilinear);
        cached_state.reinit(solver.get_dof_handler().n_dofs());
        dealii::VectorTools::interpolate(solver.get_dof_handler(), initial, cached_state);
        cached_trajectory = trajectory;
        cached_step       = 0;
      }
    current = cached_state;
    steps   = cached_step;
    update_state_function();
    dealii::Vector<double> next(current.size());
    while (steps < target)
      {
        assemble_step();
        next = current;
        solve_cg(linear_system(), next, {1e-12, 1000, 3});
        advance(next);
      }
    cached_state = current;
    cached_step  = steps;
  }

  void
  HeatEquation::assemble_step()
  {
    if (!a)
      throw std::logic_error("HeatEquation: assemble_step() before sample()");
    solver.assemble_system(*a,
                           StepForcing(parameters.forcing, *state_on_vertices, parameters.time_step),
                           1. / parameters.time_step);
  }

  void
  HeatEquation::advance(const dealii::Vector<double> &next)
  {
    if (next.size() != current.size())
      throw std::invalid_argument("HeatEquation::advance: the state has " + std::to_string(current.size()) +
                                  " entries, got " + std::to_string(next.size()));
    current = next;
    ++steps;
    update_state_function();
  }

  const dealii::Function<2> &
  HeatEquation::state_function() const
  {
    if (!state_on_vertices)
      throw std::logic_error("HeatEquation: state_function() before sample()");
    return *state_on_vertices;
  }

  const dealii::Function<2> &
  HeatEquation::coefficient() const
  {
    if (!a)
      throw std::logic_error("HeatEquation: coefficient() before sample()");
    return *a;
  }
} // namespace mpno
