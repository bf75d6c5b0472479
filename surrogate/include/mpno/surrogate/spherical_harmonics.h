#pragma once

// The real spherical harmonic transform on latitude-longitude grids (method.md Sec. 4.2;
// torch-harmonics sht.py, quadrature.py, legendre.py, truncation.py): quadrature nodes and
// weights, orthonormal associated Legendre functions, RealSHT and InverseRealSHT.

#include <torch/types.h>

#include <string>
#include <vector>

namespace mpno
{
  /**
   * A latitude-longitude grid of nlat x nlon points: colatitude theta_k (k = 0 at the
   * north pole, increasing southwards), longitude phi_j = 2 pi j / nlon.
   * - `equiangular`: theta_k = k pi / (nlat - 1), both poles included (nlat >= 2), with
   *   Clenshaw-Curtis weights in cos theta: exact for polynomials of degree nlat - 1;
   * - `legendre_gauss`: cos theta_k the Gauss-Legendre nodes (nlat >= 1), exact for
   *   polynomials of degree 2 nlat - 1.
   */
  enum class SphereGrid
  {
    equiangular,
    legendre_gauss
  };

  /** Parse "equiangular" | "legendre-gauss" (torch-harmonics' names); throws
   *  std::invalid_argument naming the value. */
  SphereGrid
  parse_sphere_grid(const std::string &name);

  /** "equiangular" | "legendre-gauss". */
  std::string
  to_string(SphereGrid grid);

  /** Quadrature nodes x_k = cos theta_k and weights w_k on [-1, 1] (sum w_k = 2). */
  struct LatitudeQuadrature
  {
    std::vector<double> cos_theta; ///< decreasing: theta_k increasing from the north pole
    std::vector<double> weights;
  };

  /**
   * The nodes and weights of @p grid with @p nlat latitudes, in double: Gauss-Legendre by
   * Newton's iteration on P_nlat (to machine precision), Clenshaw-Curtis in closed form
   * (Trefethen, "Spectral methods in MATLAB", clencurt).
   * @throws std::invalid_argument for nlat < 2 (equiangular) or nlat < 1.
   */
  LatitudeQuadrature
  latitude_quadrature(SphereGrid grid, int64_t nlat);

  /**
   * The largest number of degrees l = 0 .. lmax-1 whose products the quadrature
   * integrates exactly, so that the transform inverts the synthesis: nlat for
   * legendre-gauss, (nlat + 1) / 2 for equiangular (torch-harmonics >= 0.9 truncation).
   */
  int64_t
  sht_lmax(SphereGrid grid, int64_t nlat);

  /**
   * The orthonormal associated Legendre functions with the Condon-Shortley phase, written Pn_l^m,
   * Pn_l^m(x) with 2 pi int_{-1}^{1} Pn_l^m Pn_l'^m dx = delta_ll', so that
   * Y_l^m = Pn_l^m(cos theta) e^{i m phi} is orthonormal on the unit sphere; by the
   * stable three-term recurrence in l (Pn_0^0 = 1 / sqrt(4 pi),
   * Pn_m^m = -sqrt((2m+1)/(2m)) sin theta Pn_{m-1}^{m-1}, Pn_{m+1}^m = sqrt(2m+3) x Pn_m^m,
   * Pn_l^m = a_lm (x Pn_{l-1}^m - b_lm Pn_{l-2}^m)), in double.
   * @return float64 [mmax, lmax, n] with entry (m, l, k) = Pn_l^m(x_k), zero for m > l.
   */
  torch::Tensor
  legendre_functions(int64_t mmax, int64_t lmax, const std::vector<double> &x);

  /**
   * The Legendre table of a transform in the working type, from a process-wide cache
   * keyed by (grid, nlat, nlon, lmax, mmax, dtype, device, direction) (thread-safe):
   * float64 tables built once, stored as gemm_operand(table, @p dtype) (so bfloat16
   * rounded values held in float32 where the device has no native bfloat16 products).
   * [mmax, lmax, nlat]: Pn_l^m(x_k) w_k for the forward transform (@p with_weights),
   * Pn_l^m(x_k) for the inverse.
   */
  torch::Tensor
  cached_legendre_table(SphereGrid           grid,
                        int64_t              nlat,
                        int64_t              nlon,
                        int64_t              lmax,
                        int64_t              mmax,
                        torch::Dtype         dtype,
                        const torch::Device &device,
                        bool                 with_weights);

  /**
   * The real field sum_lm a_l^m Y_l^m (the synthesis of InverseRealSHT) at arbitrary
   * points of the unit sphere: for spectral interpolation from a grid to other points,
   * e.g. finite element support points (RealSHT on the grid, then this).
   * x(p) = sum_{l, m} c_m Re(a_l^m Pn_l^m(cos theta_p) e^{i m phi_p}), c_0 = 1, c_m = 2
   * otherwise, the imaginary parts of a_l^0 ignored; in double.
   * @param coefficients [..., lmax, mmax] complex (entries m > l ignored).
   * @param cos_theta, phi the points' cos(colatitude) and longitude (radians), equally long.
   * @return [..., n_points], float64.
   * @throws std::invalid_argument for coefficients that are not complex [..., lmax, mmax]
   *   or point lists of different lengths.
   */
  torch::Tensor
  evaluate_expansion(const torch::Tensor       &coefficients,
                     const std::vector<double> &cos_theta,
                     const std::vector<double> &phi);

  /**
   * The forward real spherical harmonic transform (torch-harmonics RealSHT, norm
   * "ortho", csphase): for x on an nlat x nlon grid,
   *
   *   X_m(theta_k) = 2 pi / nlon sum_j x(theta_k, phi_j) e^{-i m phi_j}   (rfft, "forward")
   *   a_l^m        = sum_k w_k Pn_l^m(cos theta_k) X_m(theta_k),
   *
   * the quadrature of int x conj(Y_l^m) over the sphere, exact for band-limited x of
   * degree < lmax when lmax <= sht_lmax(). Triangular truncation: 0 <= m <= l < lmax,
   * m < mmax; defaults lmax = sht_lmax(grid, nlat), mmax = nlon / 2 + 1, then both set
   * to the smaller (torch-harmonics truncate_sht).
   */
  class RealSHT
  {
  public:
    /** @p lmax, @p mmax: 0 for the defaults. @throws std::invalid_argument for a grid
     *  too small for its quadrature or negative truncations. */
    RealSHT(int64_t nlat, int64_t nlon, int64_t lmax = 0, int64_t mmax = 0, SphereGrid grid = SphereGrid::equiangular);

    /**
     * @param x [..., nlat, nlon], float32 (or float16 on CUDA: a half cuFFT, which needs
     *   a power-of-two nlon).
     * @param type the type of the Legendre quadrature's GEMM: float32, or the reduced type
     *   (operands rounded by gemm_operand(), float32 accumulation, the result rounded to
     *   @p type).
     * @return [..., lmax, mmax], complex64; zero for m > l.
     * @throws std::invalid_argument for a grid other than nlat x nlon.
     */
    torch::Tensor
    forward(const torch::Tensor &x, torch::Dtype type = torch::kFloat) const;

    int64_t
    lmax() const
    {
      return lmax_;
    }
    int64_t
    mmax() const
    {
      return mmax_;
    }

  private:
    int64_t    nlat_, nlon_, lmax_, mmax_;
    SphereGrid grid_;
  };

  /**
   * The inverse real spherical harmonic transform (torch-harmonics InverseRealSHT):
   *
   *   X_m(theta_k) = sum_l a_l^m Pn_l^m(cos theta_k)
   *   x(theta_k, phi_j) = sum_{m=-mmax+1}^{mmax-1} X_m e^{i m phi_j},  X_{-m} = conj(X_m)
   *
   * (irfft with norm "forward", the imaginary parts of m = 0 and of the Nyquist term set
   * to zero), the synthesis sum_lm a_l^m Y_l^m of a real field. lmax, mmax as RealSHT.
   */
  class InverseRealSHT
  {
  public:
    InverseRealSHT(int64_t    nlat,
                   int64_t    nlon,
                   int64_t    lmax = 0,
                   int64_t    mmax = 0,
                   SphereGrid grid = SphereGrid::equiangular);

    /**
     * @param coefficients [..., lmax, mmax] complex (complex64 or complex half).
     * @param type the type of the Legendre synthesis GEMM, as RealSHT::forward().
     * @param half_fft run the irfft in complex half (CUDA float16 only, power-of-two nlon).
     * @return [..., nlat, nlon], float32 (float16 with @p half_fft).
     * @throws std::invalid_argument for coefficients of another shape.
     */
    torch::Tensor
    forward(const torch::Tensor &coefficients, torch::Dtype type = torch::kFloat, bool half_fft = false) const;

    int64_t
    lmax() const
    {
      return lmax_;
    }
    int64_t
    mmax() const
    {
      return mmax_;
    }

  private:
    int64_t    nlat_, nlon_, lmax_, mmax_;
    SphereGrid grid_;
  };
} // namespace mpno
