#pragma once

// Internal to libmpno_surrogate: the state of a Trainer that trainer.cc and
// trainer_checkpoint.cc share, and the inference helpers that Trainer and LoadedModel
// share (load_model.cc). Not installed.

#include <mpno/surrogate/gino.h>
#include <mpno/surrogate/trainer.h>

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mpno
{
  /** The optimiser and the normalisers of a Trainer. */
  struct Trainer::Impl
  {
    std::vector<torch::Tensor>               parameters;        ///< the model's, as registered
    std::unique_ptr<torch::optim::Optimizer> optimizer;         ///< AdamW or Adam (TrainerOptions::optimizer)
    std::optional<UnitGaussianNormalizer>    input_normalizer;  ///< statistics on the device
    std::optional<UnitGaussianNormalizer>    output_normalizer; ///< statistics on the device
    int64_t                                  consecutive_nonfinite = 0;
    /** The policy a precision schedule modifies (its autocast is that of half and mixed
     *  phases): the model's at construction, or the checkpoint's. */
    PrecisionPolicy schedule_base;
    /** The policy last raised to after non-finite steps; the schedule stays at or above it. */
    std::optional<PrecisionPolicy> raised;
    /** Point clouds: the latent grid the model is trained on (checkpoint entry
     *  latent_shape); empty for grid data. */
    std::vector<int64_t> latent_shape;
  };

  namespace training
  {
    /** The line that opens a training run of @p n instances (@p what: "samples", "point
     *  clouds") from the next epoch after @p epoch with @p loss, as both paths log it. */
    void
    log_start(std::ostream         &log,
              const NeuralOperator &model,
              const TrainerOptions &options,
              int64_t               epoch,
              int64_t               n,
              const std::string    &what,
              const std::string    &loss);

    /** The shuffled order of @p n instances in the 0-based @p epoch: torch::randperm with
     *  a CPU generator seeded options.seed + epoch (so that a resumed run repeats it). */
    torch::Tensor
    epoch_permutation(const TrainerOptions &options, int64_t epoch, int64_t n);
  } // namespace training

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

    /** @p values [n, channels] encoded (decoded) per channel by @p normalizer, whose
     *  statistics are [1, channels, 1] (fitted on [1, channels, points]). */
    torch::Tensor
    encode_points(const UnitGaussianNormalizer &normalizer, const torch::Tensor &values);
    torch::Tensor
    decode_points(const UnitGaussianNormalizer &normalizer, const torch::Tensor &values);

    /** @p model as a GINO. @throws std::invalid_argument naming @p what otherwise. */
    GINOImpl &
    as_gino(NeuralOperator &model, const std::string &what);

    /**
     * @p input ready for @p gino on @p device: x encoded by @p input_normalizer (if
     * any), neighbours searched if missing (on the CPU), every tensor moved to @p device.
     */
    GINOInput
    prepare_point_cloud(const GINOImpl                              &gino,
                        const std::optional<UnitGaussianNormalizer> &input_normalizer,
                        const torch::Device                         &device,
                        GINOInput                                    input);

    /** The decoded float32 prediction [n_out, out_channels] of @p gino for a prepared
     *  input, without gradient in eval mode (the training mode is restored). */
    torch::Tensor
    predict_point_cloud(GINOImpl                                    &gino,
                        const std::optional<UnitGaussianNormalizer> &output_normalizer,
                        const GINOInput                             &prepared);

    /** @throws std::invalid_argument, beginning with @p what, if @p trained (a GINO's
     *  latent grid of training; empty: unknown, no check) is not the latent grid of
     *  @p input. */
    void
    check_latent_shape(const std::vector<int64_t> &trained, const GINOInput &input, const std::string &what);

    /** weighted_relative_l2() of each point-cloud test set, mean over its instances
     *  (added in float64 in order); h1 is NaN. @throws std::invalid_argument as
     *  PointCloudDataset::validate() and check_latent_shape() (against
     *  @p latent_shape), and for a model that is not a GINO. */
    std::map<std::string, TestErrors>
    point_cloud_test_errors(NeuralOperator                              &model,
                            const std::optional<UnitGaussianNormalizer> &input_normalizer,
                            const std::optional<UnitGaussianNormalizer> &output_normalizer,
                            const torch::Device                         &device,
                            const std::vector<int64_t>                  &latent_shape,
                            const std::vector<PointCloudTestSet>        &test_sets);
  } // namespace inference
} // namespace mpno
