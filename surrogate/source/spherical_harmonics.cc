// RealSHT, InverseRealSHT and the cache of their Legendre tables (method.md Sec. 4.2;
// torch-harmonics sht.py).
#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/spherical_harmonics.h>

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

namespace mpno
{
  namespace
  {
    using TableKey = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int, int, int, bool>;

    /** (lmax, mmax) after the defaults and the triangular truncation of torch-harmonics'
     *  truncate_sht; mmax never above what the rfft holds. */
    std::pair<int64_t, int64_t>
    truncation(const SphereGrid grid, const int64_t nlat, const int64_t nlon, const int64_t lmax, const int64_t mmax)
    {
      const int64_t min_nlat = grid == SphereGrid::equiangular ? 2 : 1;
      if (nlat < min_nlat)
        throw std::invalid_argument(to_string(grid) + " grid: nlat must be >= " + std::to_string(min_nlat) + ", got " +
                                    std::to_string(nlat));
      if (nlon < 1 || lmax < 0 || mmax < 0)
        throw std::invalid_argument("spherical harmonic transform: need nlon >= 1 and lmax, mmax >= 0, got nlon " +
                                    std::to_string(nlon) + ", lmax " + std::to_string(lmax) + ", mmax " +
                                    std::to_string(mmax));
      const int64_t l = lmax > 0 ? lmax : sht_lmax(grid, nlat);
      const int64_t m = std::min(mmax > 0 ? mmax : nlon / 2 + 1, nlon / 2 + 1);
      const int64_t n = std::min(l, m);
      return {n, n};
    }

    /** Real and imaginary planes [..., 2] of a complex tensor, complex64 first (stack,
     *  not view_as_real: the latter's backward needs a gradient with even strides). */
    torch::Tensor
    planes(torch::Tensor z)
    {
      if (z.scalar_type() != torch::kComplexFloat)
        z = z.to(torch::kComplexFloat);
      return torch::stack({torch::real(z), torch::imag(z)}, -1);
    }

    /** The einsum @p equation of @p operand with the table in @p type: the reduced
     *  result rounded to @p type as a native reduced GEMM returns it, then float32. */
    torch::Tensor
    legendre_product(const std::string   &equation,
                     const torch::Tensor &operand,
                     const torch::Tensor &table,
                     const torch::Dtype   type)
    {
      torch::Tensor y = torch::einsum(equation, {gemm_operand(operand, type), table});
      return type == torch::kFloat ? y : y.to(type).to(torch::kFloat);
    }
  } // namespace

  torch::Tensor
  cached_legendre_table(const SphereGrid     grid,
                        const int64_t        nlat,
                        const int64_t        nlon,
                        const int64_t        lmax,
                        const int64_t        mmax,
                        const torch::Dtype   dtype,
                        const torch::Device &device,
                        const bool           with_weights)
  {
    static std::mutex mutex;
    // Never destroyed: device tensors must not be freed after the CUDA runtime at exit.
    static auto                *cache = new std::map<TableKey, torch::Tensor>();
    const TableKey              key{static_cast<int>(grid),
                       nlat,
                       nlon,
                       lmax,
                       mmax,
                       static_cast<int>(dtype),
                       static_cast<int>(device.type()),
                       device.has_index() ? device.index() : -1,
                       with_weights};
    std::lock_guard<std::mutex> lock(mutex);
    const auto                  found = cache->find(key);
    if (found != cache->end())
      return found->second;

    torch::NoGradGuard       no_grad;
    const LatitudeQuadrature quadrature = latitude_quadrature(grid, nlat);
    torch::Tensor            table      = legendre_functions(mmax, lmax, quadrature.cos_theta);
    if (with_weights)
      table = table * torch::tensor(quadrature.weights, torch::kDouble).view({1, 1, nlat});
    table = gemm_operand(table.to(torch::kFloat).to(device), dtype).contiguous();
    cache->emplace(key, table);
    return table;
  }

  torch::Tensor
  evaluate_expansion(const torch::Tensor       &coefficients,
                     const std::vector<double> &cos_theta,
                     const std::vector<double> &phi)
  {
    if (coefficients.dim() < 2 || !coefficients.is_complex())
      throw std::invalid_argument("evaluate_expansion: expected complex coefficients [..., lmax, mmax]");
    if (cos_theta.size() != phi.size())
      throw std::invalid_argument("evaluate_expansion: " + std::to_string(cos_theta.size()) +
                                  " values of cos theta but " + std::to_string(phi.size()) + " of phi");
    const int64_t lmax = coefficients.size(-2), mmax = coefficients.size(-1);
    const auto    leading = coefficients.sizes().slice(0, coefficients.dim() - 2).vec();
    const auto    a       = coefficients.to(torch::kCPU, torch::kComplexDouble).reshape({-1, lmax, mmax});
    // Pn [m, l, p]; the azimuthal factors c_m e^{i m phi_p} as [m, p].
    const torch::Tensor legendre  = legendre_functions(mmax, lmax, cos_theta).to(torch::kComplexDouble);
    const auto          m         = torch::arange(mmax, torch::kDouble).view({mmax, 1});
    const auto          weight    = torch::where(m == 0, torch::ones_like(m), 2. * torch::ones_like(m));
    const auto          angle     = m * torch::tensor(phi, torch::kDouble).view({1, -1});
    const auto          azimuthal = torch::polar(weight.expand_as(angle), angle);
    // Im a_l^0 does not belong to a real field.
    const auto real_at_m0 =
      torch::cat({torch::real(a.narrow(2, 0, 1)).to(torch::kComplexDouble), a.narrow(2, 1, mmax - 1)}, 2);
    const torch::Tensor values = torch::real(torch::einsum("nlm,mlp,mp->np", {real_at_m0, legendre, azimuthal}));
    auto                shape  = leading;
    shape.push_back(static_cast<int64_t>(phi.size()));
    return values.reshape(shape);
  }

  RealSHT::RealSHT(const int64_t    nlat,
                   const int64_t    nlon,
                   const int64_t    lmax,
                   const int64_t    mmax,
                   const SphereGrid grid)
    : nlat_(nlat)
    , nlon_(nlon)
    , grid_(grid)
  {
    std::tie(lmax_, mmax_) = truncation(grid, nlat, nlon, lmax, mmax);
  }

  torch::Tensor
  RealSHT::forward(const torch::Tensor &x, const torch::Dtype type) const
  {
    if (x.dim() < 2 || x.size(-2) != nlat_ || x.size(-1) != nlon_)
      throw std::invalid_argument("RealSHT: expected [..., " + std::to_string(nlat_) + ", " + std::to_string(nlon_) +
                                  "], got " + std::to_string(x.dim() < 2 ? 0 : x.size(-2)) + " x " +
                                  std::to_string(x.dim() < 1 ? 0 : x.size(-1)));
    const auto    leading = x.sizes().slice(0, x.dim() - 2).vec();
    torch::Tensor spectrum =
      torch::fft::rfft(x.reshape({-1, nlat_, nlon_}), c10::nullopt, -1, "forward").narrow(-1, 0, mmax_);
    const torch::Tensor table = cached_legendre_table(grid_, nlat_, nlon_, lmax_, mmax_, type, x.device(), true);
    // a[n, l, m] = 2 pi sum_k X[n, k, m] W[m, l, k], real and imaginary planes together.
    const torch::Tensor y     = legendre_product("nkmz,mlk->nlmz", 2. * M_PI * planes(spectrum), table, type);
    auto                shape = leading;
    shape.insert(shape.end(), {lmax_, mmax_});
    return torch::complex(y.select(-1, 0), y.select(-1, 1)).reshape(shape);
  }

  InverseRealSHT::InverseRealSHT(const int64_t    nlat,
                                 const int64_t    nlon,
                                 const int64_t    lmax,
                                 const int64_t    mmax,
                                 const SphereGrid grid)
    : nlat_(nlat)
    , nlon_(nlon)
    , grid_(grid)
  {
    std::tie(lmax_, mmax_) = truncation(grid, nlat, nlon, lmax, mmax);
  }

  torch::Tensor
  InverseRealSHT::forward(const torch::Tensor &coefficients, const torch::Dtype type, const bool half_fft) const
  {
    if (coefficients.dim() < 2 || coefficients.size(-2) != lmax_ || coefficients.size(-1) != mmax_ ||
        !coefficients.is_complex())
      throw std::invalid_argument("InverseRealSHT: expected complex [..., " + std::to_string(lmax_) + ", " +
                                  std::to_string(mmax_) + "] coefficients");
    const auto          leading = coefficients.sizes().slice(0, coefficients.dim() - 2).vec();
    const torch::Tensor table =
      cached_legendre_table(grid_, nlat_, nlon_, lmax_, mmax_, type, coefficients.device(), false);
    // X[n, k, m] = sum_l a[n, l, m] P[m, l, k].
    const torch::Tensor xs =
      legendre_product("nlmz,mlk->nkmz", planes(coefficients.reshape({-1, lmax_, mmax_})), table, type);
    // The imaginary parts of m = 0 and of the Nyquist term do not belong to a real field;
    // not every irfft backend ignores them.
    auto imaginary_mask = torch::ones({mmax_}, xs.options());
    imaginary_mask[0]   = 0.;
    if (nlon_ % 2 == 0 && mmax_ > nlon_ / 2)
      imaginary_mask[nlon_ / 2] = 0.;
    torch::Tensor spectrum = torch::complex(xs.select(-1, 0), xs.select(-1, 1) * imaginary_mask);
    if (half_fft)
      spectrum = spectrum.to(torch::kComplexHalf);
    auto shape = leading;
    shape.insert(shape.end(), {nlat_, nlon_});
    return torch::fft::irfft(spectrum, nlon_, -1, "forward").reshape(shape);
  }
} // namespace mpno
