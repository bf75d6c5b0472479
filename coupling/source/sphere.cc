#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/numerics/vector_tools.h>

#include <mpno/coupling/sphere.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace mpno
{
  using namespace dealii;

  std::vector<double>
  real_spherical_harmonics(const unsigned int lmax, const double cos_theta, const double phi)
  {
    const double x = std::max(-1., std::min(1., cos_theta));
    const double s = std::sqrt(std::max(0., 1. - x * x));
    // pbar[l][m], m <= l: the normalised associated Legendre functions.
    std::vector<std::vector<double>> pbar(lmax + 1);
    for (unsigned int l = 0; l <= lmax; ++l)
      pbar[l].assign(l + 1, 0.);
    pbar[0][0] = std::sqrt(1. / (4. * M_PI));
    for (unsigned int m = 1; m <= lmax; ++m)
      pbar[m][m] = std::sqrt((2. * m + 1.) / (2. * m)) * s * pbar[m - 1][m - 1];
    for (unsigned int m = 0; m < lmax; ++m)
      pbar[m + 1][m] = std::sqrt(2. * m + 3.) * x * pbar[m][m];
    for (unsigned int m = 0; m <= lmax; ++m)
      for (unsigned int l = m + 2; l <= lmax; ++l)
        {
          const double a = std::sqrt((4. * l * l - 1.) / (double(l) * l - double(m) * m));
          const double b = std::sqrt(((l - 1.) * (l - 1.) - double(m) * m) / (4. * (l - 1.) * (l - 1.) - 1.));
          pbar[l][m]     = a * (x * pbar[l - 1][m] - b * pbar[l - 2][m]);
        }
    std::vector<double> y((lmax + 1) * (lmax + 1));
    for (unsigned int l = 0; l <= lmax; ++l)
      {
        y[spherical_harmonic_index(l, 0)] = pbar[l][0];
        for (unsigned int m = 1; m <= l; ++m)
          {
            y[spherical_harmonic_index(l, int(m))]  = std::sqrt(2.) * pbar[l][m] * std::cos(m * phi);
            y[spherical_harmonic_index(l, -int(m))] = std::sqrt(2.) * pbar[l][m] * std::sin(m * phi);
          }
      }
    return y;
  }

  namespace
  {
    /** (cos theta, phi) of the direction of @p p. */
    std::pair<double, double>
    direction(const Point<3> &p)
    {
      const double r = p.norm();
      AssertThrow(r > 0, ExcMessage("spherical harmonics: the origin has no direction"));
      return {p[2] / r, std::atan2(p[1], p[0])};
    }

    unsigned int
    degree_of(const std::size_t n_coefficients)
    {
      const auto lmax = static_cast<unsigned int>(std::lround(std::sqrt(double(n_coefficients)))) - 1;
      AssertThrow(n_coefficients > 0 && std::size_t(lmax + 1) * (lmax + 1) == n_coefficients,
                  ExcMessage("SphericalHarmonicExpansion: " + std::to_string(n_coefficients) +
                             " coefficients given, expected (lmax + 1)^2"));
      return lmax;
    }
  } // namespace

  SphericalHarmonicExpansion::SphericalHarmonicExpansion(std::vector<double> coefficients)
    : Function<3>(1)
    , coefficients(std::move(coefficients))
    , lmax(degree_of(this->coefficients.size()))
  {
  }

  double
  SphericalHarmonicExpansion::value(const Point<3> &p, const unsigned int) const
  {
    const auto [x, phi]         = direction(p);
    const std::vector<double> y = real_spherical_harmonics(lmax, x, phi);
    double                    u = 0.;
    for (std::size_t i = 0; i < y.size(); ++i)
      u += coefficients[i] * y[i];
    return u;
  }

  std::vector<double>
  sphere_random_field_coefficients(const unsigned int  lmax,
                                   const double        alpha,
                                   const double        tau,
                                   const std::uint64_t seed)
  {
    AssertThrow(lmax >= 1 && alpha > 0 && tau >= 0,
                ExcMessage("sphere_random_field_coefficients: needs lmax >= 1, alpha > 0, tau >= 0; got lmax = " +
                           std::to_string(lmax) + ", alpha = " + std::to_string(alpha) +
                           ", tau = " + std::to_string(tau)));
    double variance = 0.;
    for (unsigned int l = 1; l <= lmax; ++l)
      variance += (2. * l + 1.) / (4. * M_PI) * std::pow(l * (l + 1.) + tau * tau, -alpha);
    const double                     scale = 1. / std::sqrt(variance);
    std::mt19937_64                  generator(seed);
    std::normal_distribution<double> normal;
    std::vector<double>              c((lmax + 1) * (lmax + 1), 0.);
    for (unsigned int l = 1; l <= lmax; ++l)
      for (int m = -int(l); m <= int(l); ++m)
        c[spherical_harmonic_index(l, m)] = scale * std::pow(l * (l + 1.) + tau * tau, -alpha / 2.) * normal(generator);
    return c;
  }

  SphereSolver::SphereSolver(const SphereParameters &parameters)
    : parameters(parameters)
    , fe(parameters.fe_degree)
    , mapping(parameters.fe_degree + 1)
    , dof_handler(triangulation)
  {
    AssertThrow(parameters.fe_degree >= 1 && parameters.refinements <= 9,
                ExcMessage("SphereSolver: needs FE degree >= 1 and at most 9 refinements, got degree " +
                           std::to_string(parameters.fe_degree) + ", " + std::to_string(parameters.refinements) +
                           " refinements"));
    GridGenerator::hyper_sphere(triangulation, Point<3>(), 1.);
    triangulation.refine_global(parameters.refinements);
    dof_handler.distribute_dofs(fe);
    constraints.close(); // a closed surface: nothing is constrained
    DynamicSparsityPattern dsp(dof_handler.n_dofs());
    DoFTools::make_sparsity_pattern(dof_handler, dsp);
    system_matrix.reinit(complete_index_set(dof_handler.n_dofs()), dsp, MPI_COMM_SELF);
    system_rhs.reinit(dof_handler.n_dofs());
  }

  void
  SphereSolver::assemble(const Function<3> &coefficient, const Function<3> &forcing)
  {
    const auto start = std::chrono::steady_clock::now();
    system_matrix    = 0;
    system_rhs       = 0;
    const QGauss<2>                      quadrature(fe.degree + 2);
    FEValues<2, 3>                       fe_values(mapping,
                             fe,
                             quadrature,
                             update_values | update_gradients | update_quadrature_points | update_JxW_values);
    const unsigned int                   n        = fe.n_dofs_per_cell();
    const unsigned int                   n_points = quadrature.size();
    FullMatrix<double>                   cell_matrix(n, n);
    Vector<double>                       cell_rhs(n);
    std::vector<double>                  a(n_points), f(n_points);
    std::vector<types::global_dof_index> indices(n);
    last_minimum_coefficient = std::numeric_limits<double>::infinity();
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        coefficient.value_list(fe_values.get_quadrature_points(), a);
        for (const double a_q : a)
          last_minimum_coefficient = std::min(last_minimum_coefficient, a_q);
        forcing.value_list(fe_values.get_quadrature_points(), f);
        cell_matrix = 0;
        cell_rhs    = 0;
        for (unsigned int q = 0; q < n_points; ++q)
          for (unsigned int i = 0; i < n; ++i)
            {
              for (unsigned int j = 0; j < n; ++j)
                cell_matrix(i, j) += (a[q] * fe_values.shape_grad(i, q) * fe_values.shape_grad(j, q) +
                                      fe_values.shape_value(i, q) * fe_values.shape_value(j, q)) *
                                     fe_values.JxW(q);
              cell_rhs(i) += fe_values.shape_value(i, q) * f[q] * fe_values.JxW(q);
            }
        cell->get_dof_indices(indices);
        constraints.distribute_local_to_global(cell_matrix, cell_rhs, indices, system_matrix, system_rhs);
      }
    system_matrix.compress(VectorOperation::add);
    amg_is_current        = false;
    last_assembly_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  LinearSystem
  SphereSolver::linear_system() const
  {
    LinearSystem system{&system_matrix, &system_rhs, &constraints, nullptr};
    system.make_preconditioner = [this]() -> const TrilinosWrappers::PreconditionBase & {
      if (!amg_is_current)
        {
          TrilinosWrappers::PreconditionAMG::AdditionalData data;
          data.elliptic              = true;
          data.higher_order_elements = fe.degree > 1;
          data.smoother_type         = "Chebyshev";
          data.smoother_sweeps       = 2;
          amg.initialize(system_matrix, data);
          amg_is_current = true;
        }
      return amg;
    };
    return system;
  }

  std::vector<double>
  SphereSolver::spherical_harmonic_coefficients(const Vector<double> &u, const unsigned int lmax) const
  {
    const QGauss<2> quadrature(fe.degree + 2);
    FEValues<2, 3>  fe_values(mapping, fe, quadrature, update_values | update_quadrature_points | update_JxW_values);
    std::vector<double> values(quadrature.size()), c((lmax + 1) * (lmax + 1), 0.);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(u, values);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const auto [x, phi]         = direction(fe_values.quadrature_point(q));
            const std::vector<double> y = real_spherical_harmonics(lmax, x, phi);
            for (std::size_t i = 0; i < c.size(); ++i)
              c[i] += values[q] * y[i] * fe_values.JxW(q);
          }
      }
    return c;
  }

  void
  SphereSolver::interpolate(const Function<3> &function, Vector<double> &u) const
  {
    u.reinit(dof_handler.n_dofs());
    VectorTools::interpolate(mapping, dof_handler, function, u);
  }

  double
  SphereSolver::l2_error(const Vector<double> &u, const Function<3> &exact) const
  {
    Vector<float> cellwise(triangulation.n_active_cells());
    VectorTools::integrate_difference(mapping,
                                      dof_handler,
                                      u,
                                      exact,
                                      cellwise,
                                      QGauss<2>(fe.degree + 2),
                                      VectorTools::L2_norm);
    return VectorTools::compute_global_error(triangulation, cellwise, VectorTools::L2_norm);
  }
} // namespace mpno
