// Latitude-longitude grids of the unit sphere, the layout of SFNO's data (issue 6), and the
// spectral transfer between them and FE fields on a sphere mesh through real spherical
// harmonics (no per-point FEFieldFunction calls). deal.II headers only.
#pragma once

#include <deal.II/base/array_view.h>
#include <deal.II/base/function.h>
#include <deal.II/base/point.h>

#include <string>
#include <vector>

namespace mpno
{
  /**
   * nlat colatitudes theta_k, the nodes of the SHT's quadrature for @p grid ("equiangular":
   * Clenshaw-Curtis, poles included; "legendre-gauss"), increasing from the north pole,
   * times nlon longitudes phi_j = 2 pi j / nlon: point (k, j) has row-major index
   * k * nlon + j, the layout of a tensor [nlat, nlon] (method.md Sec. 4.2).
   */
  class LatLonGrid
  {
  public:
    /** @throws std::invalid_argument naming the grid for an unknown name, nlat < 2 or
     *  nlon < 1. */
    LatLonGrid(const std::string &grid, unsigned int nlat, unsigned int nlon);

    unsigned int
    n_latitudes() const
    {
      return nlat;
    }
    unsigned int
    n_longitudes() const
    {
      return nlon;
    }
    std::size_t
    n_points() const
    {
      return std::size_t(nlat) * nlon;
    }

    /** "equiangular" or "legendre-gauss". */
    const std::string &
    name() const
    {
      return grid_name;
    }

    /** cos(theta_k) of latitude row @p k. */
    double
    cos_colatitude(unsigned int k) const
    {
      return cos_theta.at(k);
    }

    /** The quadrature weight w_k of latitude row @p k (sum_k w_k = 2). */
    double
    latitude_weight(unsigned int k) const
    {
      return weights.at(k);
    }

    /** The unit vector of point @p index. */
    dealii::Point<3>
    point(std::size_t index) const;

    /** The largest degree whose coefficients analysis() recovers exactly from samples of
     *  a field of that degree (the quadrature integrates products up to 2 lmax). */
    unsigned int
    max_exact_degree() const;

    /** @p function at every point, into @p values (n_points()). */
    void
    sample(const dealii::Function<3> &function, const dealii::ArrayView<float> &values) const;

    /**
     * Coefficients c_lm, l <= @p lmax, in the order of real_spherical_harmonics(), of the
     * field with the grid @p values: c_lm = sum_kj w_k (2 pi / nlon) v_kj Y_lm(theta_k, phi_j).
     * @throws std::invalid_argument if values.size() != n_points().
     */
    std::vector<double>
    analysis(const dealii::ArrayView<const float> &values, unsigned int lmax) const;

    /** The expansion with @p coefficients at every point, into @p values. */
    void
    synthesis(const std::vector<double> &coefficients, const dealii::ArrayView<float> &values) const;

  private:
    unsigned int        nlat, nlon;
    std::string         grid_name;
    std::vector<double> cos_theta, weights;
  };
} // namespace mpno
