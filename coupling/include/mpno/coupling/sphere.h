// The unit sphere for SFNO problems (issue 6): real spherical-harmonic expansions as deal.II
// functions, seeded random fields with a decaying spectrum, and a diffusion-reaction solver
// on a codimension-one mesh (Triangulation<2, 3>, SphericalManifold), CG + Trilinos ML AMG.
// deal.II headers only.
#pragma once

#include <deal.II/base/function.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/mapping_q.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/linear_solve.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace mpno
{
  /**
   * Orthonormal real spherical harmonics up to degree @p lmax at the colatitude theta of
   * cos(theta) = @p cos_theta and longitude @p phi (radians):
   *   Y_l0 = Pbar_l^0(cos theta),  Y_lm = sqrt(2) Pbar_l^m cos(m phi),
   *   Y_l,-m = sqrt(2) Pbar_l^m sin(m phi)  (m > 0),
   * Pbar_l^m the associated Legendre functions normalised so that the Y_lm are orthonormal
   * in L2 of the unit sphere, without the Condon-Shortley phase, by the standard stable
   * three-term recurrence in double. Returns (lmax + 1)^2 values in the order
   * index(l, m) = l^2 + l + m, m = -l..l.
   */
  std::vector<double>
  real_spherical_harmonics(unsigned int lmax, double cos_theta, double phi);

  /** l^2 + l + m: the position of Y_lm in real_spherical_harmonics(). */
  constexpr unsigned int
  spherical_harmonic_index(const unsigned int l, const int m)
  {
    return l * l + l + m;
  }

  /**
   * u(x) = sum_{l <= lmax, |m| <= l} c_lm Y_lm(x / |x|) as a dealii::Function<3> (the
   * direction of x: any point off the origin). @p coefficients has (lmax + 1)^2 entries in
   * the order of real_spherical_harmonics(). Throws ExcMessage if the size is not a
   * square.
   */
  class SphericalHarmonicExpansion : public dealii::Function<3>
  {
  public:
    explicit SphericalHarmonicExpansion(std::vector<double> coefficients);

    double
    value(const dealii::Point<3> &p, unsigned int component = 0) const override;

    unsigned int
    degree() const
    {
      return lmax;
    }

  private:
    std::vector<double> coefficients;
    unsigned int        lmax;
  };

  /** exp(s g(x)) for the expansion g with @p coefficients (as SphericalHarmonicExpansion)
   *  and the scale @p scale: a positive coefficient field, e.g. problem sphere's a. */
  class ExponentialOfExpansion : public dealii::Function<3>
  {
  public:
    ExponentialOfExpansion(std::vector<double> coefficients, const double scale)
      : g(std::move(coefficients))
      , scale(scale)
    {
    }

    double
    value(const dealii::Point<3> &p, const unsigned int = 0) const override
    {
      return std::exp(scale * g.value(p));
    }

  private:
    SphericalHarmonicExpansion g;
    double                     scale;
  };

  /**
   * Coefficients of a Gaussian random field on the unit sphere with covariance
   * (-Laplace-Beltrami + tau^2)^(-alpha) restricted to degrees 1..@p lmax (zero mean):
   * c_lm = s (l (l + 1) + tau^2)^(-alpha / 2) xi_lm, xi_lm standard normals drawn in the
   * order of real_spherical_harmonics() from std::mt19937_64(@p seed), and s chosen so that
   * the pointwise variance sum_l (2l + 1) / (4 pi) s^2 (l (l + 1) + tau^2)^(-alpha) is 1.
   * Throws ExcMessage unless lmax >= 1, alpha > 0 and tau >= 0.
   */
  std::vector<double>
  sphere_random_field_coefficients(unsigned int lmax, double alpha, double tau, std::uint64_t seed);

  /** Settings of SphereSolver. */
  struct SphereParameters
  {
    /** Global refinements of the 6-cell (cube) sphere mesh: 6 * 4^r cells. */
    unsigned int refinements = 4;
    /** Degree p of FE_Q<2, 3>; the mapping is MappingQ of degree p + 1. */
    unsigned int fe_degree = 1;
  };

  /**
   * -div_S(a grad_S u) + u = f on the unit sphere S (no boundary), discretised with
   * FE_Q<2, 3>(p) on GridGenerator::hyper_sphere refined r times (SphericalManifold,
   * MappingQ(p + 1)) and solved by CG with TrilinosWrappers::PreconditionAMG (elliptic,
   * Chebyshev smoother); SPD because of the reaction term. Like DarcySolver: one object
   * serves many instances; per instance assemble(a, f), then solve with linear_system()
   * (the AMG is built on first use). Functions are evaluated at points of the discrete
   * surface; SphericalHarmonicExpansion takes their direction.
   */
  class SphereSolver
  {
  public:
    /** Builds the mesh and the system. Throws ExcMessage for p = 0 or r > 9. */
    explicit SphereSolver(const SphereParameters &parameters = SphereParameters());

    /** Assembles A and b with QGauss(p + 2) for @p coefficient a (positive) and @p forcing f. */
    void
    assemble(const dealii::Function<3> &coefficient, const dealii::Function<3> &forcing);

    /** The assembled system; its AMG is built on first use. */
    LinearSystem
    linear_system() const;

    /**
     * The L2(S) projection coefficients c_lm = int_S u Y_lm dS of the FE field @p u, by
     * the mesh's quadrature (QGauss(p + 2)), for l <= @p lmax.
     */
    std::vector<double>
    spherical_harmonic_coefficients(const dealii::Vector<double> &u, unsigned int lmax) const;

    /** The FE field interpolating @p function at the support points (of the mapped mesh). */
    void
    interpolate(const dealii::Function<3> &function, dealii::Vector<double> &u) const;

    /** ||u||_{L2(S)} of the FE field u - @p exact (exact = 0: the norm of u). */
    double
    l2_error(const dealii::Vector<double> &u, const dealii::Function<3> &exact) const;

    const dealii::DoFHandler<2, 3> &
    get_dof_handler() const
    {
      return dof_handler;
    }
    const dealii::Mapping<2, 3> &
    get_mapping() const
    {
      return mapping;
    }

    double last_assembly_seconds = 0;
    /** The smallest value of the coefficient at the quadrature points of the last
     *  assemble(): A >= min(a_min, 1) A_0 for the matrix A_0 of a = 1. */
    double last_minimum_coefficient = 0;

  private:
    SphereParameters                                  parameters;
    dealii::Triangulation<2, 3>                       triangulation;
    dealii::FE_Q<2, 3>                                fe;
    dealii::MappingQ<2, 3>                            mapping;
    dealii::DoFHandler<2, 3>                          dof_handler;
    dealii::AffineConstraints<double>                 constraints;
    dealii::TrilinosWrappers::SparseMatrix            system_matrix;
    dealii::Vector<double>                            system_rhs;
    mutable dealii::TrilinosWrappers::PreconditionAMG amg;
    mutable bool                                      amg_is_current = false;
  };
} // namespace mpno
