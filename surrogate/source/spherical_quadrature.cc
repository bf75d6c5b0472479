// Latitude quadratures and orthonormal associated Legendre functions in double, the
// precomputation of the spherical harmonic transform (torch-harmonics quadrature.py and
// legendre.py; method.md Sec. 4.2).
#include <mpno/surrogate/spherical_harmonics.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace mpno
{
  SphereGrid
  parse_sphere_grid(const std::string &name)
  {
    if (name == "equiangular")
      return SphereGrid::equiangular;
    if (name == "legendre-gauss")
      return SphereGrid::legendre_gauss;
    throw std::invalid_argument("unknown sphere grid '" + name + "'; expected equiangular or legendre-gauss");
  }

  std::string
  to_string(const SphereGrid grid)
  {
    return grid == SphereGrid::equiangular ? "equiangular" : "legendre-gauss";
  }

  namespace
  {
    /** Gauss-Legendre nodes (decreasing) and weights by Newton's iteration on P_n, from
     *  the asymptotic guess cos(pi (i + 3/4) / (n + 1/2)). */
    LatitudeQuadrature
    gauss_legendre(const int64_t n)
    {
      LatitudeQuadrature q;
      for (int64_t i = 0; i < n; ++i)
        {
          double x          = std::cos(M_PI * (static_cast<double>(i) + 0.75) / (static_cast<double>(n) + 0.5));
          double derivative = 1.;
          for (int iteration = 0; iteration < 100; ++iteration)
            {
              // P_n(x) and P_{n-1}(x) by Bonnet's recurrence.
              double p_previous = 1., p = x;
              for (int64_t k = 2; k <= n; ++k)
                {
                  const double next =
                    ((2. * static_cast<double>(k) - 1.) * x * p - (static_cast<double>(k) - 1.) * p_previous) /
                    static_cast<double>(k);
                  p_previous = p;
                  p          = next;
                }
              derivative        = static_cast<double>(n) * (x * p - p_previous) / (x * x - 1.);
              const double step = p / derivative;
              x -= step;
              if (std::abs(step) < 1e-16)
                break;
            }
          q.cos_theta.push_back(x);
          q.weights.push_back(2. / ((1. - x * x) * derivative * derivative));
        }
      return q;
    }

    /** Clenshaw-Curtis nodes cos(k pi / N), k = 0 .. N = nlat - 1, and weights. */
    LatitudeQuadrature
    clenshaw_curtis(const int64_t nlat)
    {
      const int64_t      N = nlat - 1;
      const double       n = static_cast<double>(N);
      LatitudeQuadrature q;
      for (int64_t k = 0; k <= N; ++k)
        {
          const double theta = M_PI * static_cast<double>(k) / n;
          q.cos_theta.push_back(k == 0 ? 1. : (k == N ? -1. : std::cos(theta)));
          if (k == 0 || k == N)
            {
              q.weights.push_back(N % 2 == 0 ? 1. / (n * n - 1.) : 1. / (n * n));
              continue;
            }
          double v = 1.;
          for (int64_t j = 1; 2 * j < N; ++j)
            v -= 2. * std::cos(2. * static_cast<double>(j) * theta) / (4. * static_cast<double>(j * j) - 1.);
          if (N % 2 == 0)
            v -= std::cos(n * theta) / (n * n - 1.);
          q.weights.push_back(2. * v / n);
        }
      return q;
    }
  } // namespace

  LatitudeQuadrature
  latitude_quadrature(const SphereGrid grid, const int64_t nlat)
  {
    if (grid == SphereGrid::equiangular)
      {
        if (nlat < 2)
          throw std::invalid_argument("equiangular grid: nlat must be >= 2 (both poles), got " + std::to_string(nlat));
        return clenshaw_curtis(nlat);
      }
    if (nlat < 1)
      throw std::invalid_argument("legendre-gauss grid: nlat must be >= 1, got " + std::to_string(nlat));
    return gauss_legendre(nlat);
  }

  int64_t
  sht_lmax(const SphereGrid grid, const int64_t nlat)
  {
    return grid == SphereGrid::legendre_gauss ? nlat : (nlat + 1) / 2;
  }

  torch::Tensor
  legendre_functions(const int64_t mmax, const int64_t lmax, const std::vector<double> &x)
  {
    const int64_t n     = static_cast<int64_t>(x.size());
    auto          table = torch::zeros({mmax, lmax, n}, torch::kDouble);
    auto          p     = table.accessor<double, 3>();
    for (int64_t k = 0; k < n; ++k)
      {
        const double c   = x[k];
        const double s   = std::sqrt(std::max(0., 1. - c * c));
        double       pmm = 1. / std::sqrt(4. * M_PI);
        for (int64_t m = 0; m < std::min(mmax, lmax); ++m)
          {
            const double dm = static_cast<double>(m);
            if (m > 0)
              pmm *= -std::sqrt((2. * dm + 1.) / (2. * dm)) * s;
            p[m][m][k] = pmm;
            if (m + 1 < lmax)
              p[m][m + 1][k] = std::sqrt(2. * dm + 3.) * c * pmm;
            for (int64_t l = m + 2; l < lmax; ++l)
              {
                const double dl = static_cast<double>(l);
                const double a  = std::sqrt((4. * dl * dl - 1.) / (dl * dl - dm * dm));
                const double b  = std::sqrt(((dl - 1.) * (dl - 1.) - dm * dm) / (4. * (dl - 1.) * (dl - 1.) - 1.));
                p[m][l][k]      = a * (c * p[m][l - 1][k] - b * p[m][l - 2][k]);
              }
          }
      }
    return table;
  }
} // namespace mpno
