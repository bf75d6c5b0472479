#pragma once

// Test helper: the central finite difference that the gradient tests compare autograd with.

#include <torch/torch.h>

#include <functional>

namespace mpno::test
{
  /** (L(p + eps e_i) - L(p - eps e_i)) / (2 eps) for entry @p index of the flattened
   *  @p parameter, which is restored afterwards; call under torch::NoGradGuard. */
  inline double
  central_difference(torch::Tensor &parameter, const int64_t index, const double eps,
                     const std::function<torch::Tensor()> &loss)
  {
    auto        flat = parameter.view({-1});
    const float keep = flat[index].item<float>();
    flat[index]      = keep + eps;
    const double up  = loss().item<double>();
    flat[index]      = keep - eps;
    const double down = loss().item<double>();
    flat[index]       = keep;
    return (up - down) / (2 * eps);
  }
} // namespace mpno::test
