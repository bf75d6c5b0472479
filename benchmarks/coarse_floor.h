// The floor of strategy `preconditioner` (bench_hybrid --coarse-floor): the best
// correction that any operator on a grid can give through the grid-to-FE interpolation P
// of mpno::GridTransfer. Every such correction lies in range(P); the one closest to the
// error e = A^{-1} s in the energy norm is the Galerkin coarse-grid correction
//   z = P (P^T A P)^{-1} P^T s,
// the A-orthogonal projection of e onto range(P). Composed with the AMG it is a two-grid
// method whose coarse space is the operator's grid: what a perfect operator would do.
#pragma once

#include <deal.II/lac/lapack_full_matrix.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/composed_preconditioner.h>
#include <mpno/coupling/grid_transfer.h>
#include <mpno/coupling/linear_solve.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bench
{
  using mpno::GridTransfer;
  using mpno::LinearSystem;

  /** z = P (P^T A P)^{-1} P^T s for the interpolation P from the grid of @p transfer,
   *  with P's constrained rows zeroed (as every correction's). Setup: one grid_to_fe
   *  and one matrix-vector product per grid point and a dense Cholesky factorisation of
   *  the n_grid_points^2 matrix P^T A P (LAPACK): O(n_grid_points^2) dot products and
   *  8 n_grid_points^2 bytes (140 MB for 65^2 points, 1.3 GB for 113^2), a diagnostic,
   *  not a preconditioner to use. Weights below 1e-12 (rounding) are dropped. Throws
   *  (deal.II ExcMessage) when P^T A P is not positive definite. */
  class GalerkinCoarseCorrection
  {
  public:
    GalerkinCoarseCorrection(const LinearSystem &system, const GridTransfer<2> &transfer)
    {
      const std::size_t      points = transfer.n_grid_points();
      std::vector<float>     unit(points, 0.f);
      dealii::Vector<double> column(system.rhs->size()), a_column(system.rhs->size());
      for (std::size_t g = 0; g < points; ++g)
        {
          unit[g] = 1.f;
          transfer.grid_to_fe(dealii::ArrayView<const float>(unit.data(), points), column);
          unit[g] = 0.f;
          system.constraints->set_zero(column);
          std::vector<std::pair<unsigned int, double>> entries;
          for (unsigned int i = 0; i < column.size(); ++i)
            if (std::abs(column[i]) > 1e-12)
              entries.emplace_back(i, column[i]);
          if (!entries.empty())
            columns.push_back(std::move(entries));
        }
      const unsigned int n = columns.size();
      coarse.reinit(n, n);
      for (unsigned int j = 0; j < n; ++j)
        {
          column = 0.;
          for (const auto &[i, w] : columns[j])
            column[i] = w;
          system.matrix->vmult(a_column, column);
          for (unsigned int k = 0; k < n; ++k)
            coarse(k, j) = dot(k, a_column);
        }
      coarse.set_property(dealii::LAPACKSupport::symmetric);
      coarse.compute_cholesky_factorization();
    }

    /** The number of grid points whose hat function has an unconstrained DoF. */
    unsigned int
    n_coarse_dofs() const
    {
      return columns.size();
    }

    void
    vmult(dealii::Vector<double> &z, const dealii::Vector<double> &s) const
    {
      dealii::Vector<double> y(columns.size());
      for (unsigned int k = 0; k < columns.size(); ++k)
        y[k] = dot(k, s);
      coarse.solve(y);
      z.reinit(s.size());
      for (unsigned int k = 0; k < columns.size(); ++k)
        for (const auto &[i, w] : columns[k])
          z[i] += w * y[k];
    }

  private:
    double
    dot(const unsigned int k, const dealii::Vector<double> &v) const
    {
      double sum = 0.;
      for (const auto &[i, w] : columns[k])
        sum += w * v[i];
      return sum;
    }

    std::vector<std::vector<std::pair<unsigned int, double>>> columns;
    dealii::LAPACKFullMatrix<double>                          coarse;
  };
  /** One part C of a composed preconditioner: d = C s, energy-scaled or not, composed as
   *  strategy `preconditioner` composes its parts. */
  using Part = mpno::ComposedPreconditioner::Part;

  /** ||e - z||_A / ||e||_A for z the composition of @p parts applied to r = A e. */
  inline double
  error_left(const LinearSystem &system, const std::vector<Part> &parts, const dealii::Vector<double> &e)
  {
    dealii::Vector<double> r(e.size()), z(e.size()), az(e.size());
    system.matrix->vmult(r, e);
    mpno::ComposedPreconditioner(system, parts).vmult(z, r);
    z.sadd(-1., 1., e);
    system.matrix->vmult(az, z);
    return std::sqrt(std::max(0., z * az) / (e * r));
  }

  /** Flexible CG iterations from zero to ||b - A u|| <= @p tolerance ||b|| with the
   *  composition of @p parts (at most 1000; @throws SolverControl::NoConvergence). */
  inline unsigned int
  fcg_iterations(const LinearSystem &system, const std::vector<Part> &parts, const double tolerance)
  {
    dealii::Vector<double> u(system.rhs->size());
    dealii::SolverControl  control(1000, tolerance * system.rhs->l2_norm());
    dealii::SolverFlexibleCG<dealii::Vector<double>>(control).solve(*system.matrix,
                                                                    u,
                                                                    *system.rhs,
                                                                    mpno::ComposedPreconditioner(system, parts));
    return control.last_step();
  }
} // namespace bench
