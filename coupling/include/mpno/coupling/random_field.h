#pragma once

#include <deal.II/base/array_view.h>

#include <array>
#include <cstdint>
#include <vector>

namespace mpno
{
  /**
   * Gaussian random fields on the uniform grid of n^dim points x_i = i / (n - 1) of the
   * unit cube (boundary included, the grid of GridTransfer's default box), with
   * covariance tau^(2 alpha - 2) (-Laplacian + tau^2)^(-alpha) under Neumann boundary
   * conditions: the input distribution of the FNO paper's Darcy problem (Li et al. 2021,
   * Sec. 5.2, tau = 3, alpha = 2), sampled as in its data generator GRF.m by a truncated
   * Karhunen-Loeve expansion in the Neumann eigenfunctions,
   *
   *   u(x) = sum_k c_k xi_k phi_k(x),  c_k = tau^(alpha-1) (pi^2 |k|^2 + tau^2)^(-alpha/2),
   *
   * over k in {0, .., n-1}^dim with c_0 = 0 (zero mean mode), xi_k independent standard
   * normals, and phi_k(x) = prod_d phi_{k_d}(x_d) with phi_0 = 1 and
   * phi_j(x) = sqrt(2) cos(pi j x), orthonormal in L2(0, 1). GRF.m evaluates the same
   * series (its s * idct2 of c_k xi_k) at the cell midpoints (i + 1/2) / n; here it is
   * evaluated at the grid points, boundary included. Pointwise variance:
   * sum_k c_k^2 phi_k(x)^2. The series is summed by dim products with the n x n matrix
   * phi_j(x_i) (LibTorch, float64), about 2 dim n^(dim+1) flops per sample.
   */
  template <int dim>
  class GaussianRandomField
  {
  public:
    /**
     * The field on @p n_points points per axis with the covariance parameters @p alpha
     * (smoothness, dimensionless) and @p tau (inverse length scale, 1 / unit length).
     * Throws (ExcMessage with the value) unless 2 <= n_points <= 4096, alpha > 0 and
     * tau > 0.
     */
    explicit GaussianRandomField(unsigned int n_points, double alpha = 2., double tau = 3.);

    /** Points per axis, n. */
    unsigned int
    n_points_per_axis() const
    {
      return n_points;
    }

    /** n^dim, the size of every sample. */
    std::size_t
    n_grid_points() const;

    /** The KL coefficient c_k of mode @p k (entries < n), 0 for k = 0. */
    double
    coefficient(const std::array<unsigned int, dim> &k) const;

    /**
     * One sample, n^dim values row-major (last axis fastest), dimensionless, as a
     * deterministic function of @p seed: xi_k are drawn in row-major order of k (xi_0
     * included, then multiplied by c_0 = 0) from std::normal_distribution<double> on
     * std::mt19937_64(seed). Reproducible for a given standard library (the normal
     * distribution's algorithm is implementation-defined).
     */
    std::vector<double>
    sample(std::uint64_t seed) const;

  private:
    const unsigned int n_points;
    /** c_k, row-major over k. */
    std::vector<double> coefficients;
    /** phi_j(x_i), row-major [i, j]. */
    std::vector<double> basis;
  };

  /**
   * The two-valued coefficient of the FNO paper's Darcy data (GRF.m's caller:
   * a(u >= 0) = 12, a(u < 0) = 3): @p positive where @p field >= 0, @p negative
   * elsewhere, elementwise; same size and layout as @p field.
   */
  std::vector<double>
  threshold(const dealii::ArrayView<const double> &field, double positive = 12., double negative = 3.);
} // namespace mpno
