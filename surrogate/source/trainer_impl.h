#pragma once

// Internal to libmpno_surrogate: the state of a Trainer that trainer.cc and
// trainer_checkpoint.cc share, and the inference helpers that Trainer and LoadedModel
// share (load_model.cc). Not installed.

#include <mpno/surrogate/trainer.h>

#include <torch/optim/adamw.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mpno
{
  /** The optimiser and the normalisers of a Trainer. */
  struct Trainer::Impl
  {
    std::vector<torch::Tensor>            parameters; ///< the model's, as registered
    std::unique_ptr<torch::optim::AdamW>  optimizer;
    std::optional<UnitGaussianNormalizer> input_normalizer;  ///< statistics on the device
    std::optional<UnitGaussianNormalizer> output_normalizer; ///< statistics on the device
    int64_t                               consecutive_nonfinite = 0;
    /** The policy a precision schedule modifies (its autocast is that of half and mixed
     *  phases): the model's at construction, or the checkpoint's. */
    PrecisionPolicy schedule_base;
    /** The policy last raised to after non-finite steps; the schedule stays at or above it. */
    std::optional<PrecisionPolicy> raised;
  };

  namespace inference
  {
    /**
     * The decoded (physical) float32 prediction of @p model for x [samples, in, n_1..
     * n_d], computed without gradient in eval mode on @p device and left there; the
     * model's training mode is restored.
     */
    torch::Tensor
    predict_on_device(NeuralOperator                              &model,
                      const std::optional<UnitGaussianNormalizer> &input_normalizer,
                      const std::optional<UnitGaussianNormalizer> &output_normalizer,
                      const torch::Device                         &device,
                      const torch::Tensor                         &x);

    /**
     * Relative L2 and H1 errors of each test set, mean over its samples: the per-sample
     * errors of batches of @p batch_size samples are added in float64 in sample order.
     * @throws std::invalid_argument naming an empty test set.
     */
    std::map<std::string, TestErrors>
    test_errors(NeuralOperator                              &model,
                const std::optional<UnitGaussianNormalizer> &input_normalizer,
                const std::optional<UnitGaussianNormalizer> &output_normalizer,
                const torch::Device                         &device,
                const std::vector<TestSet>                  &test_sets,
                int64_t                                      batch_size);
  } // namespace inference
} // namespace mpno
