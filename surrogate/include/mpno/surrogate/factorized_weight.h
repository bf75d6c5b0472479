#pragma once

// Factorized spectral weights (TFNO; Kossaifi et al. 2023, neuraloperator
// `factorization`, method.md Sec. 2.2): the complex weight W [I, O, m_1, ..., m_d'] of a
// SpectralConv (m_d' the kept real-FFT modes of the last axis, as the dense weight's
// shape) held as a CP, Tucker or tensor-train decomposition, and the planned complex
// contraction that applies it.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mpno
{
  enum class Factorization
  {
    dense,
    tucker,
    cp,
    tt
  };

  /** "dense" | "tucker" | "cp" | "tt"; @throws std::invalid_argument naming the option. */
  Factorization
  parse_factorization(const std::string &name);

  std::string
  factorization_name(Factorization factorization);

  /**
   * CP rank for a tensor of @p shape (I_1, ..., I_N) holding the fraction @p rank of its
   * entries: R = max(round(prod(I) rank / sum(I)), 1) (tensorly validate_cp_rank;
   * (64,64,32,32) at 0.05 gives 1092). @throws std::invalid_argument unless rank > 0.
   */
  int64_t
  cp_rank(const std::vector<int64_t> &shape, double rank);

  /**
   * Tucker ranks r_k = max(round(c I_k), 1), where c > 0 solves
   * c^N prod(I) + c sum(I_k^2) = rank prod(I) (tensorly validate_tucker_rank; the core
   * plus factors then hold about rank prod(I) entries). (64,64,32,32) at 0.05 gives
   * (30,30,15,15). @throws std::invalid_argument unless rank > 0.
   */
  std::vector<int64_t>
  tucker_ranks(const std::vector<int64_t> &shape, double rank);

  /**
   * Equal internal tensor-train rank r (boundary ranks 1) with about rank prod(I)
   * entries: the cores [1, I_1, r], [r, I_k, r] (1 < k < N), [r, I_N, 1] hold
   * P(r) = (I_1 + I_N) r + S r^2 entries, S = sum_{1<k<N} I_k, so
   * r = max(round((-(I_1 + I_N) + sqrt((I_1 + I_N)^2 + 4 S rank prod(I))) / (2 S)), 1).
   * @throws std::invalid_argument unless rank > 0 and N >= 3.
   */
  int64_t
  tt_rank(const std::vector<int64_t> &shape, double rank);

  /** Labels of the weight's axes for contract_complex(): "io" then "klm" for the modes. */
  std::string
  weight_labels(std::size_t n_mode_axes);

  /** One complex factor of a factorized weight. */
  struct WeightFactor
  {
    /** Parameter name, e.g. "weight_core", "weight_factor_0". */
    std::string name;
    /** One label per axis: weight_labels() for the weight's axes, others for ranks. */
    std::string labels;
    /** Complex shape (the parameter is real, this shape plus a trailing 2). */
    std::vector<int64_t> shape;
    /** Initial complex standard deviation s (E|z|^2 = s^2, each real part N(0, s^2/2));
     *  0 means initialised to 1 + 0i (the CP weights). */
    double std;
  };

  /**
   * The factors of the complex tensor of @p shape [I, O, m_1, ..., m_d'] under
   * @p factorization at @p rank (dense: none), initialised so that the reconstructed
   * entries have the complex variance @p variance (the dense init, 2 / (I + O)):
   * independent zero-mean factors multiply variances and a sum of R such products adds
   * them, so with N = d' + 2 axes
   * - Tucker (core [r_1..r_N], factors U_k [I_k, r_k]): every tensor has
   *   s^2 = (variance / prod(r_k))^(1 / (N + 1));
   * - CP (weights [R] = 1, factors [I_k, R]): s^2 = (variance / R)^(1 / N);
   * - TT (cores [r_{k-1}, I_k, r_k]): s^2 = (variance / prod_{0<k<N} r_k)^(1 / N).
   */
  std::vector<WeightFactor>
  weight_factors(Factorization factorization, const std::vector<int64_t> &shape, double rank, double variance);

  /** How contract_complex() forms one complex product from real ones (method.md Sec. 2.1). */
  enum class ComplexProduct
  {
    /** (a + ib)(c + id) = (ac - bd) + i(ad + bc): the 4 real products, one real einsum
     *  on the stacked planes. */
    four,
    /** Gauss's 3 products: t1 = c(a + b), t2 = a(d - c), t3 = b(c + d); Re = t1 - t3,
     *  Im = t1 + t2. A quarter fewer multiplications, but the sums a + b, d - c, c + d
     *  are rounded to the reduced type before the product and Re = t1 - t3 cancels, so
     *  in bfloat16 or float16 the error is bounded relative to (|a| + |b|)(|c| + |d|),
     *  not to |Re| or |Im|. Reachable through contract_complex() only (the layers use
     *  the 4-product form). */
    gauss
  };

  /**
   * The complex contraction of @p operands (complex, axes labelled by @p labels) into
   * @p output labels, pairwise in the order of cached_plan() (FLOPs, then peak memory).
   * Each pairwise step runs as one real einsum in @p type (float32, bfloat16, float16) on
   * the view_as_real planes, giving the 2x2 block T of the 4 real products
   * (Re = T00 - T11, Im = T01 + T10, combined in float32; method.md Sec. 2.1); in
   * bfloat16 the CPU backend accumulates in float32, float16 on CUDA accumulates in
   * float32 (cuBLAS default). With @p product = ComplexProduct::gauss each step is
   * instead three real einsums. Differentiable. Returns complex64 with @p output's axes.
   * @throws std::invalid_argument for mismatched labels or sizes.
   */
  torch::Tensor
  contract_complex(const std::vector<torch::Tensor> &operands,
                   const std::vector<std::string>   &labels,
                   const std::string                &output,
                   torch::Dtype                      type,
                   ComplexProduct                    product = ComplexProduct::four);
} // namespace mpno
