// DarcySolver and GridFunction (coupling/include/mpno/coupling/darcy.h): convergence
// against a manufactured solution, residuals, iteration counts, initial guesses.
#include <mpno/coupling/darcy.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/numerics/vector_tools.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "mpi_environment.h"

namespace
{
  using namespace dealii;
  using mpno::DarcyParameters;
  using mpno::DarcySolver;
  using mpno::GridFunction;

  [[maybe_unused]] const bool mpi_ready = mpno::test::ensure_mpi();

  /// u = sin(pi x) sin(pi y), zero on the boundary of the unit square.
  class ExactSolution : public Function<2>
  {
  public:
    double
    value(const Point<2> &p, const unsigned int = 0) const override
    {
      return std::sin(M_PI * p[0]) * std::sin(M_PI * p[1]);
    }
    Tensor<1, 2>
    gradient(const Point<2> &p, const unsigned int = 0) const override
    {
      return Tensor<1, 2>(
        {M_PI * std::cos(M_PI * p[0]) * std::sin(M_PI * p[1]), M_PI * std::sin(M_PI * p[0]) * std::cos(M_PI * p[1])});
    }
  };

  /// a = 1 + x y / 2.
  class SmoothCoefficient : public Function<2>
  {
  public:
    double
    value(const Point<2> &p, const unsigned int = 0) const override
    {
      return 1 + 0.5 * p[0] * p[1];
    }
  };

  /// f = -div(a grad u) = 2 pi^2 a u - (pi / 2) (y cos(pi x) sin(pi y) + x sin(pi x) cos(pi y)).
  class ManufacturedForcing : public Function<2>
  {
  public:
    double
    value(const Point<2> &p, const unsigned int = 0) const override
    {
      const double x = p[0], y = p[1], pi = M_PI;
      return 2 * pi * pi * (1 + 0.5 * x * y) * std::sin(pi * x) * std::sin(pi * y) -
             0.5 * pi * (y * std::cos(pi * x) * std::sin(pi * y) + x * std::sin(pi * x) * std::cos(pi * y));
    }
  };

  /// 12 / 3 checkerboard of 8 x 8 blocks, sampled at the (n + 1)^2 mesh vertices.
  GridFunction
  checkerboard(const unsigned int n)
  {
    std::vector<double> values((n + 1) * (n + 1));
    for (unsigned int i = 0; i <= n; ++i)
      for (unsigned int j = 0; j <= n; ++j)
        values[i * (n + 1) + j] = ((8 * i / (n + 1) + 8 * j / (n + 1)) % 2 == 0) ? 12.0 : 3.0;
    return GridFunction(n + 1, n + 1, values);
  }

  struct Errors
  {
    double l2, h1_seminorm;
  };

  Errors
  manufactured_errors(const unsigned int n, const unsigned int degree = 1)
  {
    DarcyParameters parameters;
    parameters.n_cells_per_side = n;
    parameters.fe_degree        = degree;
    DarcySolver solver(parameters);
    solver.assemble_system(SmoothCoefficient(), ManufacturedForcing());
    solver.setup_amg();
    const auto result = solver.solve();
    EXPECT_LT(result.final_relative_residual, parameters.relative_tolerance) << "n = " << n;

    Vector<float>   cellwise(solver.get_triangulation().n_active_cells());
    const QGauss<2> quadrature(degree + 3);
    Errors          errors;
    for (const auto norm : {VectorTools::L2_norm, VectorTools::H1_seminorm})
      {
        VectorTools::integrate_difference(solver.get_dof_handler(),
                                          solver.get_solution(),
                                          ExactSolution(),
                                          cellwise,
                                          quadrature,
                                          norm);
        const double e = VectorTools::compute_global_error(solver.get_triangulation(), cellwise, norm);
        (norm == VectorTools::L2_norm ? errors.l2 : errors.h1_seminorm) = e;
      }
    return errors;
  }
} // namespace

TEST(GridFunction, PiecewiseConstantTakesTheNearestGridPoint)
{
  // 3 x 2 points: x in {0, 1/2, 1}, y in {0, 1}; value 10 i + j at point (i, j).
  const GridFunction g(3, 2, {0, 1, 10, 11, 20, 21});
  EXPECT_EQ(g.value(Point<2>(0.2, 0.3)), 0);
  EXPECT_EQ(g.value(Point<2>(0.3, 0.6)), 11);
  EXPECT_EQ(g.value(Point<2>(0.74, 0.49)), 10);
  EXPECT_EQ(g.value(Point<2>(0.76, 1.0)), 21);
  EXPECT_EQ(g.value(Point<2>(1.5, -1.0)), 20); // clamped onto the square
}

TEST(GridFunction, BilinearIsExactForBilinearFields)
{
  const auto          field = [](const double x, const double y) { return 1 + 2 * x + 3 * y + 4 * x * y; };
  const unsigned int  n_1 = 5, n_2 = 4;
  std::vector<double> values(n_1 * n_2);
  for (unsigned int i = 0; i < n_1; ++i)
    for (unsigned int j = 0; j < n_2; ++j)
      values[i * n_2 + j] = field(i / (n_1 - 1.0), j / (n_2 - 1.0));
  const GridFunction bilinear(n_1, n_2, values, GridFunction::Interpolation::bilinear);
  for (const Point<2> p : {Point<2>(0.1, 0.7), Point<2>(0.55, 0.2), Point<2>(1.0, 1.0), Point<2>(0.0, 0.33)})
    EXPECT_NEAR(bilinear.value(p), field(p[0], p[1]), 1e-13) << p;
  // The nearest-point field differs away from the grid points.
  EXPECT_GT(std::abs(GridFunction(n_1, n_2, values).value(Point<2>(0.1, 0.7)) - field(0.1, 0.7)), 0.1);
}

TEST(GridFunction, RejectsWrongSizes)
{
  EXPECT_THROW(GridFunction(3, 3, std::vector<double>(8)), ExcMessage);
  EXPECT_THROW(GridFunction(1, 3, std::vector<double>(3)), ExcMessage);
}

TEST(DarcySolver, ManufacturedSolutionConvergesAtTheExpectedOrders)
{
  const Errors e16 = manufactured_errors(16), e32 = manufactured_errors(32), e64 = manufactured_errors(64);
  for (const auto &[coarse, fine] : {std::pair(e16, e32), std::pair(e32, e64)})
    {
      const double l2_order = std::log2(coarse.l2 / fine.l2);
      const double h1_order = std::log2(coarse.h1_seminorm / fine.h1_seminorm);
      std::printf("L2 error %.3e -> %.3e (order %.3f), H1 seminorm %.3e -> %.3e (order %.3f)\n",
                  coarse.l2,
                  fine.l2,
                  l2_order,
                  coarse.h1_seminorm,
                  fine.h1_seminorm,
                  h1_order);
      EXPECT_GT(l2_order, 1.8);
      EXPECT_LT(l2_order, 2.2);
      EXPECT_GT(h1_order, 0.9);
      EXPECT_LT(h1_order, 1.1);
    }
  EXPECT_LT(e64.l2, 1e-3); // ~ C h^2 with the right constant, not just the right slope
}

TEST(DarcySolver, QuadraticElementsConvergeAtOrderThree)
{
  const double order = std::log2(manufactured_errors(8, 2).l2 / manufactured_errors(16, 2).l2);
  std::printf("Q2 L2 order 8 -> 16 cells: %.3f\n", order);
  EXPECT_GT(order, 2.7);
  EXPECT_LT(order, 3.3);
}

TEST(DarcySolver, CheckerboardIterationsAndRestartFromTheSolution)
{
  DarcyParameters parameters;
  parameters.n_cells_per_side = 64;
  DarcySolver solver(parameters);
  solver.assemble_system(checkerboard(64));
  solver.setup_amg();

  const auto from_zero = solver.solve();
  EXPECT_DOUBLE_EQ(from_zero.initial_relative_residual, 1.0);
  EXPECT_GE(from_zero.iterations, 4u);
  EXPECT_LT(from_zero.iterations, 30u);
  EXPECT_LT(from_zero.final_relative_residual, parameters.relative_tolerance);
  EXPECT_DOUBLE_EQ(from_zero.final_relative_residual, solver.relative_residual(solver.get_solution()));
  EXPECT_GT(from_zero.assembly_seconds, 0);
  EXPECT_GT(from_zero.amg_setup_seconds, 0);

  const Vector<double> converged = solver.get_solution();
  const auto           restarted = solver.solve(converged); // the same AMG, reused
  EXPECT_LE(restarted.iterations, 1u);
  EXPECT_LT(restarted.final_relative_residual, parameters.relative_tolerance);
  Vector<double> difference = solver.get_solution();
  difference -= converged;
  EXPECT_LT(difference.linfty_norm(), 1e-8 * converged.linfty_norm());
}

TEST(DarcySolver, InitialGuessIsRespectedAndConstrained)
{
  // 64^2 cells: at 32^2 ML's coarsest level (up to 2000 DoFs, direct solve) is the whole problem.
  DarcyParameters parameters;
  parameters.n_cells_per_side = 64;
  DarcySolver solver(parameters);
  solver.assemble_system(SmoothCoefficient(), ManufacturedForcing());
  solver.setup_amg();
  const auto           from_zero = solver.solve();
  const Vector<double> reference = solver.get_solution();

  // The interpolated exact solution (zero on the boundary): a good start.
  Vector<double> guess(solver.get_dof_handler().n_dofs());
  VectorTools::interpolate(solver.get_dof_handler(), ExactSolution(), guess);
  Vector<double> residual(guess.size());
  solver.get_system_matrix().vmult(residual, guess);
  residual -= solver.get_system_rhs();
  const double guess_residual = residual.l2_norm() / solver.get_system_rhs().l2_norm();
  const auto   from_guess     = solver.solve(guess);
  EXPECT_NEAR(from_guess.initial_relative_residual, guess_residual, 1e-12);
  EXPECT_LT(from_guess.initial_relative_residual, 0.1);
  EXPECT_LT(from_guess.iterations, from_zero.iterations);
  EXPECT_LT(from_guess.final_relative_residual, parameters.relative_tolerance);

  // Wrong boundary values in the guess are replaced by the Dirichlet values.
  const auto    &constraints = solver.get_constraints();
  Vector<double> shifted     = guess;
  for (types::global_dof_index i = 0; i < guess.size(); ++i)
    if (constraints.is_constrained(i))
      shifted[i] = 5.0;
  const auto from_shifted = solver.solve(shifted);
  EXPECT_NEAR(from_shifted.initial_relative_residual, from_guess.initial_relative_residual, 1e-12);
  unsigned int n_constrained = 0;
  for (types::global_dof_index i = 0; i < guess.size(); ++i)
    if (constraints.is_constrained(i))
      {
        EXPECT_EQ(solver.get_solution()[i], 0.0) << "DoF " << i;
        ++n_constrained;
      }
  EXPECT_EQ(n_constrained, 4u * 64u);
  Vector<double> difference = solver.get_solution();
  difference -= reference;
  EXPECT_LT(difference.linfty_norm(), 1e-8 * reference.linfty_norm());
}

TEST(DarcySolver, TableAssemblyEqualsFEValuesAssembly)
{
  // The textbook assembly (FEValues on every cell, AffineConstraints::distribute_local_to_
  // global) of -div(a grad u) + c u = f on the solver's mesh and constraints; the solver's
  // table assembly must give the same matrix and right-hand side to roundoff.
  // One solver per degree assembles twice (with, then without the reaction term), so the
  // second assembly must start from zero.
  for (const unsigned int degree : {1u, 2u})
    {
      DarcyParameters parameters;
      parameters.n_cells_per_side = 7;
      parameters.fe_degree        = degree;
      DarcySolver solver(parameters);
      for (const double reaction : {25., 0.})
        {
          solver.assemble_system(SmoothCoefficient(), ManufacturedForcing(), reaction);

          const auto            &dof_handler = solver.get_dof_handler();
          DynamicSparsityPattern dsp(dof_handler.n_dofs());
          DoFTools::make_sparsity_pattern(dof_handler, dsp, solver.get_constraints(), false);
          TrilinosWrappers::SparseMatrix matrix;
          matrix.reinit(complete_index_set(dof_handler.n_dofs()), dsp, MPI_COMM_SELF);
          Vector<double> rhs(dof_handler.n_dofs());

          const QGauss<2>                      quadrature(degree + 1);
          FEValues<2>                          fe_values(solver.get_fe(),
                                quadrature,
                                update_values | update_gradients | update_quadrature_points | update_JxW_values);
          const unsigned int                   n = solver.get_fe().n_dofs_per_cell();
          FullMatrix<double>                   cell_matrix(n, n);
          Vector<double>                       cell_rhs(n);
          std::vector<types::global_dof_index> dofs(n);
          for (const auto &cell : dof_handler.active_cell_iterators())
            {
              fe_values.reinit(cell);
              cell_matrix = 0;
              cell_rhs    = 0;
              for (unsigned int q = 0; q < quadrature.size(); ++q)
                {
                  const Point<2> &x = fe_values.quadrature_point(q);
                  const double    a = SmoothCoefficient().value(x), f = ManufacturedForcing().value(x);
                  for (unsigned int i = 0; i < n; ++i)
                    {
                      for (unsigned int j = 0; j < n; ++j)
                        cell_matrix(i, j) += (a * fe_values.shape_grad(i, q) * fe_values.shape_grad(j, q) +
                                              reaction * fe_values.shape_value(i, q) * fe_values.shape_value(j, q)) *
                                             fe_values.JxW(q);
                      cell_rhs(i) += f * fe_values.shape_value(i, q) * fe_values.JxW(q);
                    }
                }
              cell->get_dof_indices(dofs);
              solver.get_constraints().distribute_local_to_global(cell_matrix, cell_rhs, dofs, matrix, rhs);
            }
          matrix.compress(VectorOperation::add);

          const auto  &assembled  = solver.get_system_matrix();
          const double scale      = matrix.linfty_norm();
          unsigned int n_compared = 0;
          for (types::global_dof_index row = 0; row < dof_handler.n_dofs(); ++row)
            {
              ASSERT_EQ(assembled.row_length(row), matrix.row_length(row)) << "row " << row;
              for (auto entry = matrix.begin(row); entry != matrix.end(row); ++entry, ++n_compared)
                EXPECT_NEAR(assembled.el(row, entry->column()), entry->value(), 1e-13 * scale)
                  << "degree " << degree << ", reaction " << reaction << ", entry (" << row << ", " << entry->column()
                  << ")";
              EXPECT_NEAR(solver.get_system_rhs()[row], rhs[row], 1e-13 * rhs.linfty_norm()) << "row " << row;
            }
          EXPECT_EQ(n_compared, matrix.n_nonzero_elements());
          EXPECT_GT(matrix.frobenius_norm(), 0.);
        }
    }
}

TEST(DarcySolver, RefusesMisuse)
{
  DarcyParameters parameters;
  parameters.n_cells_per_side = 4;
  DarcySolver solver(parameters);
  solver.assemble_system(Functions::ConstantFunction<2>(1.0));
  EXPECT_THROW(solver.solve(), ExcMessage); // no setup_amg() after the assembly
  solver.setup_amg();
  EXPECT_THROW(solver.solve(Vector<double>(3)), ExcMessage);
  EXPECT_LT(solver.solve().final_relative_residual, parameters.relative_tolerance);
  parameters.n_cells_per_side = 0;
  EXPECT_THROW(DarcySolver{parameters}, ExcMessage);
}
