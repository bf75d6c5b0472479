#pragma once

#include <mpno/surrogate/precision.h>

#include <torch/nn/module.h>

#include <memory>
#include <string>

namespace mpno
{
  /**
   * What the Trainer and the checkpoints need of a model: a forward map on grid
   * tensors, a precision policy that can be changed during training, and a
   * textual configuration from which make_neural_operator() rebuilds it.
   */
  class NeuralOperator : public torch::nn::Module
  {
  public:
    /** x [batch, in_channels, n_1, ..., n_d] -> [batch, out_channels, n_1, ..., n_d], float32. */
    virtual torch::Tensor
    forward(torch::Tensor x) = 0;

    virtual void
    set_precision(const PrecisionPolicy &precision) = 0;

    virtual const PrecisionPolicy &
    precision() const = 0;

    /** The model's registry name, e.g. "fno". */
    virtual std::string
    model_name() const = 0;

    /** "key = value" lines that make_neural_operator() reads back. */
    virtual std::string
    config_text() const = 0;
  };

  /**
   * Build a model by name ("fno", "tfno", "sfno", "gino") from its config_text().
   * @throws std::invalid_argument naming an unknown model or a bad configuration entry.
   */
  std::shared_ptr<NeuralOperator>
  make_neural_operator(const std::string     &model_name,
                       const std::string     &config_text,
                       const PrecisionPolicy &precision);
} // namespace mpno
