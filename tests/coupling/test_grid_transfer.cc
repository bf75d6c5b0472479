// GridTransfer (grid_transfer.h): FE -> grid against f at the grid points (exact gather; Q2
// point evaluation, O(h^3)), grid -> FE against interpolate(f) (O(h_grid^2)), round trip, errors.
#include <deal.II/base/function.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>
#include <deal.II/numerics/vector_tools_interpolate.h>

#include <mpno/coupling/grid_transfer.h>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "mpi_environment.h"

using namespace dealii;

// RemotePointEvaluation needs MPI (one process here).
static const bool mpi_ready = mpno::test::ensure_mpi();

namespace
{
  /** Smooth, not a polynomial: sin(2 x + 1) cos(3 y) (exp(z) / 2 in 3D). */
  template <int dim>
  class Smooth : public Function<dim>
  {
  public:
    double
    value(const Point<dim> &p, const unsigned int = 0) const override
    {
      return std::sin(2. * p[0] + 1.) * std::cos(3. * p[1]) * (dim == 3 ? std::exp(p[dim - 1]) / 2. : 1.);
    }
  };

  /** The point (value, ..., value). */
  template <int dim>
  Point<dim>
  corner(const double value)
  {
    return value * mpno::GridTransfer<dim>::unit_corner();
  }

  /** A degree-@p degree Lagrange space on [lower, upper]^dim split into @p cells per axis. */
  template <int dim>
  struct Space
  {
    static constexpr int dimension = dim;
    Space(unsigned int cells, unsigned int degree, double lower = 0., double upper = 1.)
      : fe(degree)
    {
      GridGenerator::subdivided_hyper_cube(tria, cells, lower, upper);
      dof_handler.reinit(tria);
      dof_handler.distribute_dofs(fe);
      interpolant.reinit(dof_handler.n_dofs());
      VectorTools::interpolate(dof_handler, Smooth<dim>(), interpolant);
    }
    Triangulation<dim> tria;
    FE_Q<dim>          fe;
    DoFHandler<dim>    dof_handler;
    Vector<double>     interpolant;
  };

  /** max_i |grid FE -> grid of the interpolant - f(x_i)| on @p n points per axis. */
  template <int dim>
  double
  fe_to_grid_error(const Space<dim> &space, const unsigned int n, const bool expect_gather)
  {
    std::array<unsigned int, dim> shape;
    shape.fill(n);
    const mpno::GridTransfer<dim> transfer(space.dof_handler, shape);
    EXPECT_EQ(transfer.uses_support_point_gather(), expect_gather);
    std::vector<double> grid(transfer.n_grid_points());
    transfer.fe_to_grid(space.interpolant, make_array_view(grid));
    double error = 0.;
    for (std::size_t i = 0; i < grid.size(); ++i)
      error = std::max(error, std::abs(grid[i] - Smooth<dim>().value(transfer.grid_point(i))));
    return error;
  }

  /** max over DoFs |grid -> FE of f's samples on n^dim points - interpolant of f|. */
  template <int dim>
  double
  grid_to_fe_error(const Space<dim> &space, const unsigned int n)
  {
    std::array<unsigned int, dim> shape;
    shape.fill(n);
    const mpno::GridTransfer<dim> transfer(space.dof_handler, shape);
    std::vector<double>           samples(transfer.n_grid_points());
    for (std::size_t i = 0; i < samples.size(); ++i)
      samples[i] = Smooth<dim>().value(transfer.grid_point(i));
    Vector<double> fe_field(space.dof_handler.n_dofs());
    transfer.grid_to_fe(make_array_view(std::as_const(samples)), fe_field);
    fe_field -= space.interpolant;
    return fe_field.linfty_norm();
  }

  /** n^dim grid points among the support points on [lower, upper]^dim: exact to rounding. */
  template <int dim>
  void
  check_gather(unsigned int cells, unsigned int degree, unsigned int n, double lower = 0., double upper = 1.)
  {
    const Space<dim>              space(cells, degree, lower, upper);
    std::array<unsigned int, dim> shape;
    shape.fill(n);
    const mpno::GridTransfer<dim> transfer(space.dof_handler, shape, corner<dim>(lower), corner<dim>(upper));
    ASSERT_TRUE(transfer.uses_support_point_gather());
    std::vector<double> grid(transfer.n_grid_points());
    transfer.fe_to_grid(space.interpolant, make_array_view(grid));
    const std::vector<float> grid_float = transfer.fe_to_grid(space.interpolant);
    for (std::size_t i = 0; i < grid.size(); ++i)
      {
        const double exact = Smooth<dim>().value(transfer.grid_point(i));
        ASSERT_NEAR(grid[i], exact, 1e-14) << "grid point " << transfer.grid_point(i);
        ASSERT_NEAR(grid_float[i], exact, 1e-7) << "grid point " << transfer.grid_point(i);
      }
  }

  /** Expect each observed order log2(e_{i-1} / e_i) under halving h in [low, high]. */
  void
  expect_orders(const std::vector<double> &errors, const double low, const double high, const std::string &label)
  {
    for (std::size_t i = 1; i < errors.size(); ++i)
      {
        const double order = std::log2(errors[i - 1] / errors[i]);
        std::cout << label << ": errors " << errors[i - 1] << " -> " << errors[i] << ", order " << order << '\n';
        EXPECT_GT(order, low) << label;
        EXPECT_LT(order, high) << label;
      }
  }

  /** Run @p f, expect an ExceptionBase whose message contains every one of @p parts. */
  template <typename F>
  void
  expect_error(F &&f, const std::vector<std::string> &parts)
  {
    try
      {
        f();
        ADD_FAILURE() << "no exception thrown";
      }
    catch (const ExceptionBase &e)
      {
        std::ostringstream message; // the ExcMessage text, not wrapped into lines as in what()
        e.print_info(message);
        for (const auto &part : parts)
          EXPECT_NE(message.str().find(part), std::string::npos) << message.str() << "lacks: " << part;
      }
  }
} // namespace

TEST(GridTransfer, GatherIsExactOnSupportPoints)
{
  check_gather<2>(16, 1, 17);
  check_gather<2>(8, 2, 17);
  check_gather<2>(32, 1, 17); // every other vertex
  check_gather<2>(12, 1, 13, -1., 2.);
  check_gather<3>(8, 1, 9);
  check_gather<3>(4, 2, 9, -0.5, 0.5);
  check_gather<3>(8, 2, 9);
}

// Q2 interpolation error at arbitrary points is O(h^3); on a grid that the support
// points do not contain, the max over the grid points must show it. Measured orders
// 2.84-3.11; [2.6, 3.4] allows the sampled cell positions to shift between meshes.
TEST(GridTransfer, PointEvaluationOfQ2IsThirdOrder)
{
  std::vector<double> errors_2d, errors_3d;
  for (const unsigned int cells : {5u, 10u, 20u})
    errors_2d.push_back(fe_to_grid_error(Space<2>(cells, 2), 33, false));
  for (const unsigned int cells : {3u, 6u, 12u})
    errors_3d.push_back(fe_to_grid_error(Space<3>(cells, 2), 17, false));
  expect_orders(errors_2d, 2.6, 3.4, "Q2 FE -> grid, 2D, 33^2 points");
  expect_orders(errors_3d, 2.6, 3.4, "Q2 FE -> grid, 3D, 17^3 points");
}

// Multilinear interpolation is O(h_grid^2). Q1 support points at j/97 (2D) and j/37
// (3D), both prime, fill every grid cell of 9, 17 and 33 points densely, so that the max
// over the DoFs is the max norm of the interpolation error. Its observed order moves by
// up to 0.1 as the maximum changes place (measured 1.97-2.10 from 9 to 129 points), so
// the range is [1.85, 2.15].
TEST(GridTransfer, GridToFeIsSecondOrderInGridSpacing)
{
  const Space<2>      space_2d(97, 1);
  const Space<3>      space_3d(37, 1);
  std::vector<double> errors_2d, errors_3d;
  for (const unsigned int n : {9u, 17u, 33u})
    {
      errors_2d.push_back(grid_to_fe_error(space_2d, n));
      errors_3d.push_back(grid_to_fe_error(space_3d, n));
    }
  expect_orders(errors_2d, 1.85, 2.15, "grid -> FE, 2D, Q1 on 97^2 cells");
  expect_orders(errors_3d, 1.85, 2.15, "grid -> FE, 3D, Q1 on 37^3 cells");
}

TEST(GridTransfer, RoundTripOnMatchingQ1IsIdentity)
{
  const Space<2>                         space(16, 1, -1., 1.);
  const mpno::GridTransfer<2>            transfer(space.dof_handler, {17, 17}, corner<2>(-1.), corner<2>(1.));
  std::mt19937                           generator(3);
  std::uniform_real_distribution<double> uniform(-1., 1.);
  Vector<double>                         u(space.dof_handler.n_dofs());
  for (auto &value : u)
    value = uniform(generator);

  std::vector<double> grid(transfer.n_grid_points());
  transfer.fe_to_grid(u, make_array_view(grid));
  Vector<double> back(u.size());
  transfer.grid_to_fe(make_array_view(std::as_const(grid)), back);
  back -= u;
  EXPECT_LE(back.linfty_norm(), 1e-14);

  const std::vector<float> grid_float = transfer.fe_to_grid(u);
  transfer.grid_to_fe(make_array_view(grid_float), back);
  back -= u;
  EXPECT_LE(back.linfty_norm(), 1e-7); // float32 rounding of values in [-1, 1]
}

TEST(GridTransfer, TransposeIsTheAdjointOfGridToFe)
{
  // <P g, v> = <g, P^T v> for random g, v, in 2D and 3D, with grids that do not match the
  // mesh; and P^T of the lumped mass is positive at every grid point.
  std::mt19937                           generator(5);
  std::uniform_real_distribution<double> uniform(-1., 1.);
  const auto                             check = [&](const auto &space, const auto shape) {
    const mpno::GridTransfer<std::decay_t<decltype(space)>::dimension> transfer(space.dof_handler, shape);
    std::vector<double>                                                g(transfer.n_grid_points()), ptv(g.size());
    Vector<double>                                                     v(space.dof_handler.n_dofs()), pg(v.size());
    for (double &x : g)
      x = uniform(generator);
    for (double &x : v)
      x = uniform(generator);
    transfer.grid_to_fe(make_array_view(std::as_const(g)), pg);
    transfer.grid_to_fe_transpose(v, make_array_view(ptv));
    double grid_side = 0.;
    for (std::size_t i = 0; i < g.size(); ++i)
      grid_side += g[i] * ptv[i];
    EXPECT_NEAR(pg * v, grid_side, 1e-12 * std::abs(grid_side) + 1e-12);

    Vector<double> ones(v.size());
    ones = 1.;
    transfer.grid_to_fe_transpose(ones, make_array_view(ptv));
    double total = 0.;
    for (const double x : ptv)
      {
        EXPECT_GT(x, 0.);
        total += x;
      }
    // Multilinear weights sum to one per DoF.
    EXPECT_NEAR(total, double(v.size()), 1e-9 * v.size());
  };
  check(Space<2>(20, 1), std::array<unsigned int, 2>{7, 9});
  check(Space<3>(6, 1), std::array<unsigned int, 3>{5, 4, 3});
}

TEST(GridTransfer, BadSizesAndDomainsThrow)
{
  const Space<2>              space(4, 1);
  const mpno::GridTransfer<2> transfer(space.dof_handler, {5, 7});
  const auto                  n_dofs = space.dof_handler.n_dofs(); // 25
  std::vector<float>          grid(35), short_grid(34);
  Vector<double>              fe_field(n_dofs), long_field(n_dofs + 1);

  expect_error([&] { transfer.fe_to_grid(long_field, make_array_view(grid)); }, {"25", "26"});
  expect_error([&] { transfer.fe_to_grid(fe_field, make_array_view(short_grid)); }, {"35", "34"});
  expect_error([&] { transfer.grid_to_fe(make_array_view(std::as_const(short_grid)), fe_field); }, {"35", "34"});
  expect_error([&] { transfer.grid_to_fe(make_array_view(std::as_const(grid)), long_field); }, {"25", "26"});
  expect_error([&] { mpno::GridTransfer<2>(space.dof_handler, {1, 7}); }, {"axis 0 has 1"});
  expect_error(
    [&] {
      mpno::GridTransfer<2>(space.dof_handler, {5, 5}, corner<2>(1.), corner<2>(0.));
    },
    {"lower < upper"});

  // A grid beyond the mesh can still be mapped to the FE space, but not sampled from it;
  // a grid inside the mesh the other way round.
  const mpno::GridTransfer<2> larger(space.dof_handler, {5, 5}, Point<2>(), corner<2>(2.));
  std::vector<float>          grid_25(25);
  larger.grid_to_fe(make_array_view(std::as_const(grid_25)), fe_field);
  expect_error([&] { larger.fe_to_grid(fe_field, make_array_view(grid_25)); }, {"outside the mesh"});
  const mpno::GridTransfer<2> smaller(space.dof_handler, {5, 5}, corner<2>(0.2), corner<2>(0.8));
  smaller.fe_to_grid(fe_field, make_array_view(grid_25));
  expect_error([&] { smaller.grid_to_fe(make_array_view(std::as_const(grid_25)), fe_field); }, {"outside the box"});
}
