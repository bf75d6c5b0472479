// contract_complex(): a planned multi-operand complex contraction as real einsums on
// view_as_real planes.
#include <mpno/surrogate/contraction_planner.h>
#include <mpno/surrogate/factorized_weight.h>
#include <mpno/surrogate/precision.h>

#include <torch/torch.h>

#include <stdexcept>

namespace mpno
{
  namespace
  {
    /** a [la] x b [lb] -> [result], complex64, through the 2x2 block of real products in
     *  @p type (the plane labels Y, Z are not used by any operand). */
    torch::Tensor
    pairwise(const torch::Tensor &a,
             const std::string   &la,
             const torch::Tensor &b,
             const std::string   &lb,
             const std::string   &result,
             const torch::Dtype   type)
    {
      // stack, not view_as_real: the latter's backward needs a gradient with even strides.
      const torch::Tensor planes_a = gemm_operand(torch::stack({torch::real(a), torch::imag(a)}, -1), type);
      const torch::Tensor planes_b = gemm_operand(torch::stack({torch::real(b), torch::imag(b)}, -1), type);
      const torch::Tensor t =
        torch::einsum(la + "Y," + lb + "Z->" + result + "YZ", {planes_a, planes_b}).to(type).to(torch::kFloat);
      const auto block = [&](int64_t y, int64_t z) { return t.select(-1, z).select(-1, y); };
      return torch::complex(block(0, 0) - block(1, 1), block(0, 1) + block(1, 0));
    }

    /** As pairwise(), with Gauss's three real products (ComplexProduct::gauss). */
    torch::Tensor
    pairwise_gauss(const torch::Tensor &x,
                   const std::string   &lx,
                   const torch::Tensor &y,
                   const std::string   &ly,
                   const std::string   &result,
                   const torch::Dtype   type)
    {
      // x = a + ib, y = c + id.
      const torch::Tensor a = torch::real(x), b = torch::imag(x), c = torch::real(y), d = torch::imag(y);
      const std::string   equation = lx + "," + ly + "->" + result;
      const auto          product  = [&](const torch::Tensor &p, const torch::Tensor &q) {
        return torch::einsum(equation, {gemm_operand(p, type), gemm_operand(q, type)}).to(type).to(torch::kFloat);
      };
      const torch::Tensor t1 = product(a + b, c);
      const torch::Tensor t2 = product(a, d - c);
      const torch::Tensor t3 = product(b, c + d);
      return torch::complex(t1 - t3, t1 + t2);
    }
  } // namespace

  torch::Tensor
  contract_complex(const std::vector<torch::Tensor> &operands,
                   const std::vector<std::string>   &labels,
                   const std::string                &output,
                   const torch::Dtype                type,
                   const ComplexProduct              product)
  {
    if (operands.size() != labels.size() || operands.size() < 2)
      throw std::invalid_argument("contract_complex: need >= 2 operands with one label string each");
    ContractionProblem problem{labels, output, {}};
    for (std::size_t k = 0; k < operands.size(); ++k)
      {
        if (!operands[k].is_complex() || operands[k].dim() != static_cast<int64_t>(labels[k].size()))
          throw std::invalid_argument("contract_complex: operand " + std::to_string(k) + " must be complex of rank " +
                                      std::to_string(labels[k].size()));
        for (std::size_t axis = 0; axis < labels[k].size(); ++axis)
          {
            const int64_t size           = operands[k].size(static_cast<int64_t>(axis));
            const auto [entry, inserted] = problem.sizes.emplace(labels[k][axis], size);
            if (!inserted && entry->second != size)
              throw std::invalid_argument(std::string("contract_complex: label '") + labels[k][axis] + "' has sizes " +
                                          std::to_string(entry->second) + " and " + std::to_string(size) + " in " +
                                          problem.equation());
          }
      }
    const ContractionPlan &plan = cached_plan(problem);

    std::vector<torch::Tensor> tensors = operands;
    std::vector<std::string>   names   = labels;
    for (std::size_t s = 0; s < plan.order.size(); ++s)
      {
        const auto [i, j]    = plan.order[s];
        torch::Tensor result = product == ComplexProduct::gauss ?
                                 pairwise_gauss(tensors[i], names[i], tensors[j], names[j], plan.results[s], type) :
                                 pairwise(tensors[i], names[i], tensors[j], names[j], plan.results[s], type);
        for (const std::size_t k : {j, i})
          {
            tensors.erase(tensors.begin() + static_cast<std::ptrdiff_t>(k));
            names.erase(names.begin() + static_cast<std::ptrdiff_t>(k));
          }
        tensors.push_back(std::move(result));
        names.push_back(plan.results[s]);
      }
    return tensors.front();
  }
} // namespace mpno
