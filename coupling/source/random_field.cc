// deal.II before LibTorch (design.md "Three libraries").
#include <deal.II/base/exceptions.h>
#include <deal.II/base/numbers.h>

#include <mpno/coupling/random_field.h>

#include <torch/torch.h>

#include <cmath>
#include <random>

namespace mpno
{
  template <int dim>
  GaussianRandomField<dim>::GaussianRandomField(const unsigned int n_points, const double alpha, const double tau)
    : n_points(n_points)
  {
    AssertThrow(n_points >= 2 && n_points <= 4096,
                dealii::ExcMessage("GaussianRandomField: the grid needs 2 to 4096 points per axis, but n_points = " +
                                   std::to_string(n_points) + "."));
    AssertThrow(alpha > 0. && tau > 0.,
                dealii::ExcMessage("GaussianRandomField: alpha and tau must be positive, but alpha = " +
                                   std::to_string(alpha) + " and tau = " + std::to_string(tau) + "."));
    const double pi = dealii::numbers::PI;

    coefficients.resize(n_grid_points());
    for (std::size_t index = 0; index < coefficients.size(); ++index)
      {
        double      k_squared = 0.;
        std::size_t rest      = index;
        for (unsigned int d = 0; d < dim; ++d, rest /= n_points)
          k_squared += double(rest % n_points) * double(rest % n_points);
        coefficients[index] = std::pow(tau, alpha - 1.) * std::pow(pi * pi * k_squared + tau * tau, -alpha / 2.);
      }
    coefficients[0] = 0.;

    basis.resize(std::size_t(n_points) * n_points);
    for (unsigned int i = 0; i < n_points; ++i)
      {
        const double x = double(i) / (n_points - 1);
        for (unsigned int j = 0; j < n_points; ++j)
          basis[i * n_points + j] = j == 0 ? 1. : std::sqrt(2.) * std::cos(pi * j * x);
      }
  }

  template <int dim>
  std::size_t
  GaussianRandomField<dim>::n_grid_points() const
  {
    std::size_t n = 1;
    for (unsigned int d = 0; d < dim; ++d)
      n *= n_points;
    return n;
  }

  template <int dim>
  double
  GaussianRandomField<dim>::coefficient(const std::array<unsigned int, dim> &k) const
  {
    std::size_t index = 0;
    for (unsigned int d = 0; d < dim; ++d)
      {
        AssertThrow(k[d] < n_points,
                    dealii::ExcMessage("GaussianRandomField::coefficient: mode index " + std::to_string(k[d]) +
                                       " on axis " + std::to_string(d) +
                                       " must be below n_points = " + std::to_string(n_points) + "."));
        index = index * n_points + k[d];
      }
    return coefficients[index];
  }

  template <int dim>
  std::vector<double>
  GaussianRandomField<dim>::sample(const std::uint64_t seed) const
  {
    std::mt19937_64                  generator(seed);
    std::normal_distribution<double> normal(0., 1.);
    std::vector<double>              weighted(n_grid_points());
    for (std::size_t index = 0; index < weighted.size(); ++index)
      weighted[index] = coefficients[index] * normal(generator);

    // u[i_1, .., i_d] = sum_k B[i_1, k_1] .. B[i_d, k_d] w[k]: contracting the last axis
    // of w with B's second puts the new axis first, so dim contractions restore the order.
    const auto                 options = torch::TensorOptions().dtype(torch::kFloat64);
    const auto                 B = torch::from_blob(const_cast<double *>(basis.data()), {n_points, n_points}, options);
    const std::vector<int64_t> shape(dim, n_points);
    auto                       u = torch::from_blob(weighted.data(), shape, options);
    for (unsigned int d = 0; d < dim; ++d)
      u = torch::tensordot(B, u, {1}, {dim - 1});
    u = u.contiguous();

    std::vector<double> field(n_grid_points());
    std::copy(u.data_ptr<double>(), u.data_ptr<double>() + field.size(), field.begin());
    return field;
  }

  std::vector<double>
  threshold(const dealii::ArrayView<const double> &field, const double positive, const double negative)
  {
    std::vector<double> coefficient(field.size());
    for (std::size_t i = 0; i < field.size(); ++i)
      coefficient[i] = field[i] >= 0. ? positive : negative;
    return coefficient;
  }

  template class GaussianRandomField<2>;
  template class GaussianRandomField<3>;
} // namespace mpno
