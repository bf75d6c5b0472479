#pragma once

// The order of a multi-operand tensor contraction (an einsum such as the 2D Tucker
// `nikl,pqrs,ip,oq,kr,ls->nokl`), chosen from the actual sizes by FLOPs with peak
// intermediate memory as tie-break (method.md Sec. 2.1-2.2; the reference uses
// opt_einsum's contract_path). Pure C++, no tensors: the executor is
// contract_complex() in factorized_weight.h.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mpno
{
  /**
   * A contraction: one label string per operand (one character per axis), the output
   * labels, and the size of every label. A label absent from the output is summed
   * over as soon as no remaining operand carries it.
   */
  struct ContractionProblem
  {
    std::vector<std::string> inputs;
    std::string              output;
    std::map<char, int64_t>  sizes;

    /** "in1,in2,...->out" */
    std::string
    equation() const;
  };

  /**
   * The cost of a pairwise order. `flops`: multiply-adds, the sum over the steps of
   * the product of the sizes of all labels of the two operands (one complex
   * multiply-add is 4 real ones). `peak_elements`: the largest total size of the
   * intermediates alive at once, counted when a step's result is created (its operands
   * still alive); inputs are not counted, the final result is.
   */
  struct ContractionCost
  {
    double flops         = 0.;
    double peak_elements = 0.;

    /** Lexicographic: fewer FLOPs, then less peak memory. */
    bool
    operator<(const ContractionCost &other) const
    {
      return flops < other.flops || (flops == other.flops && peak_elements < other.peak_elements);
    }
  };

  /**
   * A pairwise order in opt_einsum's convention: step s contracts entries (first,
   * second) of the current operand list, first < second, removes both and appends the
   * result. n operands take n - 1 steps.
   */
  using ContractionOrder = std::vector<std::pair<std::size_t, std::size_t>>;

  struct ContractionPlan
  {
    ContractionOrder order;
    /** The labels of each step's result; the last is the problem's output. */
    std::vector<std::string> results;
    ContractionCost          cost;
  };

  /**
   * The labels and cost of @p order on @p problem.
   * @throws std::invalid_argument for an order of the wrong length or with an index out
   *   of range, or a label without a size.
   */
  ContractionPlan
  evaluate_order(const ContractionProblem &problem, const ContractionOrder &order);

  /** The written order ((((op0 op1) op2) op3) ...), as a ContractionOrder. */
  ContractionOrder
  written_order(std::size_t n_operands);

  /**
   * The order of least ContractionCost: exhaustive search over every pairwise order
   * for up to 6 operands (2700 orders for 6), greedy beyond (each step the pair whose
   * step costs fewest FLOPs, then the smallest result).
   * @throws std::invalid_argument for fewer than 2 operands or a label without a size.
   */
  ContractionPlan
  plan_contraction(const ContractionProblem &problem);

  /** plan_contraction() through a process-wide cache keyed by equation and sizes
   *  (thread-safe); the forward pass calls it at every step. */
  const ContractionPlan &
  cached_plan(const ContractionProblem &problem);
} // namespace mpno
