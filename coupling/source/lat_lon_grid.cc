#include <mpno/coupling/lat_lon_grid.h>
#include <mpno/coupling/sphere.h>

#include <mpno/surrogate/spherical_harmonics.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace mpno
{
  LatLonGrid::LatLonGrid(const std::string &grid, const unsigned int nlat, const unsigned int nlon)
    : nlat(nlat)
    , nlon(nlon)
    , grid_name(grid)
  {
    if (nlat < 2 || nlon < 1)
      throw std::invalid_argument("LatLonGrid '" + grid + "': needs nlat >= 2 and nlon >= 1, got " +
                                  std::to_string(nlat) + " x " + std::to_string(nlon));
    const LatitudeQuadrature q = latitude_quadrature(parse_sphere_grid(grid), nlat);
    cos_theta                  = q.cos_theta;
    weights                    = q.weights;
  }

  dealii::Point<3>
  LatLonGrid::point(const std::size_t index) const
  {
    const double z = cos_theta[index / nlon], phi = 2. * M_PI * double(index % nlon) / nlon;
    const double s = std::sqrt(std::max(0., 1. - z * z));
    return {s * std::cos(phi), s * std::sin(phi), z};
  }

  unsigned int
  LatLonGrid::max_exact_degree() const
  {
    // The quadrature's exact polynomial degree in cos(theta) and the longitudes' aliasing
    // limit (m < nlon / 2), for products of two functions of the degree returned.
    const auto lmax = static_cast<unsigned int>(sht_lmax(parse_sphere_grid(grid_name), nlat)) - 1;
    return std::min(lmax, nlon > 1 ? (nlon - 1) / 2 : 0u);
  }

  void
  LatLonGrid::sample(const dealii::Function<3> &function, const dealii::ArrayView<float> &values) const
  {
    if (values.size() != n_points())
      throw std::invalid_argument("LatLonGrid::sample: " + std::to_string(values.size()) + " values for " +
                                  std::to_string(n_points()) + " points");
    for (std::size_t i = 0; i < n_points(); ++i)
      values[i] = static_cast<float>(function.value(point(i)));
  }

  std::vector<double>
  LatLonGrid::analysis(const dealii::ArrayView<const float> &values, const unsigned int lmax) const
  {
    if (values.size() != n_points())
      throw std::invalid_argument("LatLonGrid::analysis: " + std::to_string(values.size()) + " values for " +
                                  std::to_string(n_points()) + " points");
    std::vector<double> c((lmax + 1) * (lmax + 1), 0.);
    for (unsigned int k = 0; k < nlat; ++k)
      for (unsigned int j = 0; j < nlon; ++j)
        {
          const double              w = weights[k] * 2. * M_PI / nlon * values[k * nlon + j];
          const std::vector<double> y = real_spherical_harmonics(lmax, cos_theta[k], 2. * M_PI * j / nlon);
          for (std::size_t i = 0; i < c.size(); ++i)
            c[i] += w * y[i];
        }
    return c;
  }

  void
  LatLonGrid::synthesis(const std::vector<double> &coefficients, const dealii::ArrayView<float> &values) const
  {
    sample(SphericalHarmonicExpansion(coefficients), values);
  }
} // namespace mpno
