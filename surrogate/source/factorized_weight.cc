// Factor shapes, float ranks and initialisation of factorized spectral weights.
#include <mpno/surrogate/factorized_weight.h>

#include <cmath>
#include <numeric>
#include <stdexcept>

namespace mpno
{
  namespace
  {
    double
    product(const std::vector<int64_t> &shape)
    {
      return std::accumulate(shape.begin(), shape.end(), 1., [](double p, int64_t n) { return p * n; });
    }

    void
    check_rank(const double rank)
    {
      if (!(rank > 0.) || !std::isfinite(rank))
        throw std::invalid_argument("factorized weight: rank must be > 0 (a fraction of the dense parameter "
                                    "count), got " +
                                    std::to_string(rank));
    }

    int64_t
    at_least_one(const double r)
    {
      return std::max<int64_t>(1, std::llround(r));
    }
  } // namespace

  Factorization
  parse_factorization(const std::string &name)
  {
    if (name == "dense")
      return Factorization::dense;
    if (name == "tucker")
      return Factorization::tucker;
    if (name == "cp")
      return Factorization::cp;
    if (name == "tt")
      return Factorization::tt;
    throw std::invalid_argument("factorization: expected one of dense, tucker, cp, tt, got '" + name + "'");
  }

  std::string
  factorization_name(const Factorization factorization)
  {
    switch (factorization)
      {
        case Factorization::tucker:
          return "tucker";
        case Factorization::cp:
          return "cp";
        case Factorization::tt:
          return "tt";
        default:
          return "dense";
      }
  }

  int64_t
  cp_rank(const std::vector<int64_t> &shape, const double rank)
  {
    check_rank(rank);
    const double sum = std::accumulate(shape.begin(), shape.end(), 0.);
    return at_least_one(product(shape) * rank / sum);
  }

  std::vector<int64_t>
  tucker_ranks(const std::vector<int64_t> &shape, const double rank)
  {
    check_rank(rank);
    const double n = static_cast<double>(shape.size()), prod = product(shape);
    double       sum_squares = 0.;
    for (const int64_t size : shape)
      sum_squares += static_cast<double>(size) * static_cast<double>(size);
    // f(c) = c^N prod + c sum(I^2) - rank prod is increasing on c > 0: bisection.
    const auto f  = [&](const double c) { return std::pow(c, n) * prod + c * sum_squares - rank * prod; };
    double     lo = 0., hi = 1.;
    while (f(hi) < 0.)
      hi *= 2.;
    for (int iteration = 0; iteration < 200; ++iteration)
      {
        const double mid        = 0.5 * (lo + hi);
        (f(mid) < 0. ? lo : hi) = mid;
      }
    std::vector<int64_t> ranks;
    for (const int64_t size : shape)
      ranks.push_back(at_least_one(0.5 * (lo + hi) * static_cast<double>(size)));
    return ranks;
  }

  int64_t
  tt_rank(const std::vector<int64_t> &shape, const double rank)
  {
    check_rank(rank);
    if (shape.size() < 3)
      throw std::invalid_argument("factorization tt: needs a tensor of order >= 3");
    const double ends   = static_cast<double>(shape.front() + shape.back());
    const double middle = std::accumulate(shape.begin() + 1, shape.end() - 1, 0.);
    return at_least_one((-ends + std::sqrt(ends * ends + 4. * middle * rank * product(shape))) / (2. * middle));
  }

  std::string
  weight_labels(const std::size_t n_mode_axes)
  {
    return "io" + std::string("klm").substr(0, n_mode_axes);
  }

  std::vector<WeightFactor>
  weight_factors(const Factorization         factorization,
                 const std::vector<int64_t> &shape,
                 const double                rank,
                 const double                variance)
  {
    const std::size_t         n      = shape.size();
    const std::string         labels = weight_labels(n - 2);
    const double              order  = static_cast<double>(n);
    std::vector<WeightFactor> factors;
    switch (factorization)
      {
        case Factorization::dense:
          break;
        case Factorization::tucker:
          {
            const auto        ranks       = tucker_ranks(shape, rank);
            const std::string rank_labels = std::string("pqrst").substr(0, n);
            const double      s           = std::sqrt(std::pow(variance / product(ranks), 1. / (order + 1.)));
            factors.push_back({"weight_core", rank_labels, ranks, s});
            for (std::size_t k = 0; k < n; ++k)
              factors.push_back({"weight_factor_" + std::to_string(k),
                                 std::string{labels[k], rank_labels[k]},
                                 {shape[k], ranks[k]},
                                 s});
            break;
          }
        case Factorization::cp:
          {
            const int64_t r = cp_rank(shape, rank);
            const double  s = std::sqrt(std::pow(variance / static_cast<double>(r), 1. / order));
            factors.push_back({"weight_weights", "r", {r}, 0.});
            for (std::size_t k = 0; k < n; ++k)
              factors.push_back({"weight_factor_" + std::to_string(k), std::string{labels[k], 'r'}, {shape[k], r}, s});
            break;
          }
        case Factorization::tt:
          {
            const int64_t r = tt_rank(shape, rank);
            const double  s = std::sqrt(std::pow(variance / std::pow(static_cast<double>(r), order - 1.), 1. / order));
            const std::string rank_labels = "ABCDEF";
            for (std::size_t k = 0; k < n; ++k)
              factors.push_back({"weight_core_" + std::to_string(k),
                                 std::string{rank_labels[k], labels[k], rank_labels[k + 1]},
                                 {k == 0 ? 1 : r, shape[k], k + 1 == n ? 1 : r},
                                 s});
            break;
          }
      }
    return factors;
  }
} // namespace mpno
