#pragma once

#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/neural_operator.h>
#include <mpno/surrogate/normalizer.h>
#include <mpno/surrogate/point_cloud_dataset.h>
#include <mpno/surrogate/precision_schedule.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mpno
{
  namespace checkpoint_io
  {
    struct CheckpointState;
  }

  /** Training configuration (parameter subsection `Training`, and the top-level `Device`). */
  struct TrainerOptions
  {
    int64_t epochs        = 20;
    int64_t batch_size    = 32;
    double  learning_rate = 8e-3;
    double  weight_decay  = 1e-4;
    /** "adamw": torch::optim::AdamW, weight decay decoupled from the gradient
     *  (Loshchilov & Hutter, ICLR 2019; neuraloperator's default); "adam":
     *  torch::optim::Adam, weight decay added to the gradient as an L2 penalty (the
     *  original FNO code's Adam). */
    std::string optimizer = "adamw";
    /** "none" | "step" (StepLR: lr * gamma^floor(epoch / step_size)) | "cosine"
     *  (CosineAnnealingLR closed form, eta_min 0, period t_max epochs). Stepped per epoch. */
    std::string scheduler = "cosine";
    int64_t     step_size = 100;
    double      gamma     = 0.5;
    int64_t     t_max     = 30;
    /** "h1" | "l2": the relative loss minimised (method.md Sec. 5). */
    std::string training_loss = "h1";
    /** Max global gradient norm; 0 turns clipping off. */
    double gradient_clipping = 0.;
    /** Seed of the per-epoch shuffling (epoch e uses seed + e) and of the model's init
     *  (which the caller seeds: `mpno train` calls torch::manual_seed(seed) first). */
    uint64_t seed = 0;
    /** Consecutive non-finite steps after which the precision is raised (PrecisionPolicy::raised). */
    int64_t max_nonfinite_steps = 3;
    /** Write the checkpoint every this many epochs (and always at the end); 0: only at the end. */
    int64_t checkpoint_every = 1;
    /** The spectral precision and autocast per phase of training (PrecisionSchedule),
     *  applied to the model's policy at the start of each epoch; none: the model's
     *  precision holds throughout. A checkpoint records it (not in to_entries()). */
    std::optional<PrecisionSchedule> precision_schedule;
    /** Where the model, each batch, the test batches and the normaliser statistics live;
     *  the datasets themselves stay on the CPU. */
    torch::Device device = torch::kCPU;

    /** @throws std::invalid_argument naming the first invalid option and its value, or a
     *  CUDA device when CUDA is not available. */
    void
    validate() const;

    /**
     * The options as "key = value" pairs (doubles written exactly), as recorded in a
     * checkpoint's state.txt under "training.<key>"; the device is not included.
     */
    std::map<std::string, std::string>
    to_entries() const;
  };

  /**
   * The learning rate of the 0-based epoch @p epoch_index in closed form, so that a
   * resumed run continues the schedule exactly: "none": learning_rate; "step":
   * learning_rate * gamma^floor(epoch_index / step_size) (torch StepLR); "cosine":
   * learning_rate * (1 + cos(pi * epoch_index / t_max)) / 2 (torch CosineAnnealingLR
   * closed form, eta_min = 0, periodic with period 2 t_max beyond t_max).
   */
  double
  scheduled_learning_rate(const TrainerOptions &options, int64_t epoch_index);

  /** A named evaluation set, e.g. {"16", test data at 16^2}, {"32", zero-shot at 32^2}. */
  struct TestSet
  {
    std::string   name;
    TensorDataset data;
  };

  /** The short label of a policy used in history.csv and summary.json, e.g. "mixed+autocast". */
  std::string
  precision_label(const PrecisionPolicy &policy);

  /** Relative errors averaged over the samples of one test set. */
  struct TestErrors
  {
    double l2 = 0.;
    double h1 = 0.;
  };

  /** One row of history.csv. */
  struct EpochRecord
  {
    int64_t                           epoch         = 0; ///< 1-based
    double                            learning_rate = 0.;
    double                            train_loss    = 0.; ///< mean per sample
    std::map<std::string, TestErrors> test_errors;
    double                            seconds            = 0.;
    double                            samples_per_second = 0.;
    int64_t                           skipped_steps      = 0; ///< non-finite steps this epoch
    std::string                       precision;
  };

  /**
   * Trains a NeuralOperator on a TensorDataset with AdamW or Adam (options.optimizer),
   * a per-epoch learning rate schedule, optional gradient clipping and normalisers (neuraloperator's Trainer,
   * method.md Sec. 5), writing into an output directory:
   * - history.csv: one EpochRecord per line;
   * - checkpoint/: model.pt, optimizer.pt, normalizers.pt, state.txt (model name,
   *   model configuration, precision, epoch and step counters, options) and
   *   history.csv, written to a temporary directory, synced and renamed
   *   (save_checkpoint()), so an interrupted run never leaves a corrupt checkpoint.
   *
   * A non-finite loss or gradient norm skips the step (no parameter update), is
   * counted and logged; after max_nonfinite_steps consecutive ones the precision is
   * raised (PrecisionPolicy::raised: half -> mixed -> full -> autocast off) and
   * logged; at the top of that ladder train() throws std::runtime_error instead.
   *
   * With options.precision_schedule, the model's precision is set at the start of each
   * epoch to the schedule's policy for that epoch, with the model's policy at
   * construction (or the checkpoint's) as base: its autocast applies in the half and
   * mixed phases. A switch is logged ("epoch 126: precision schedule switches to mixed
   * (autocast on)"). Once the precision was raised after non-finite steps, the schedule
   * never goes below the raised policy (ordered half < mixed < full, autocast on below
   * off at equal spectral precision): a later phase that is higher is followed, a lower
   * one is held at the raised policy and that is logged. history.csv's precision column
   * holds the policy at the end of each epoch.
   *
   * The training loss (summed over the batch, like neuraloperator) is computed in
   * float32 on the encoded outputs when the output is normalised, as neuraloperator's
   * Trainer does (its data processor decodes only in evaluation); test errors are
   * always computed on decoded, physical outputs. Epoch e (0-based) shuffles with a
   * CPU generator seeded seed + e and uses scheduled_learning_rate(options, e), so a run
   * resumed from a checkpoint is bit-identical to an uninterrupted one (1 thread).
   *
   * The model is moved to options.device; the data sets stay where they are (the CPU)
   * and each batch is moved to the device when it is used.
   */
  class Trainer
  {
  public:
    /**
     * @param model moved to options.device.
     * @param output_directory created if missing; "" writes nothing.
     * @param log progress lines (one per epoch) go here; nullptr for silence.
     * @throws std::invalid_argument for invalid options (TrainerOptions::validate()).
     */
    Trainer(std::shared_ptr<NeuralOperator> model,
            const TrainerOptions           &options,
            std::filesystem::path           output_directory,
            std::ostream                   *log = nullptr);

    /** Normalisers are fitted by train() on the training data unless already fitted. */
    void
    set_normalizers(bool encode_input, bool encode_output);

    /**
     * Train from the current epoch to options.epochs, evaluating every test set after
     * each epoch. Resumes where load_checkpoint() left off.
     * @throws std::invalid_argument if the data's channels do not fit the model, or
     *   unchanged from PrecisionPolicy::check_supported() if the precision cannot run
     *   on the device; std::runtime_error when non-finite steps persist at the highest
     *   precision.
     */
    std::vector<EpochRecord>
    train(const TensorDataset &train_data, const std::vector<TestSet> &test_sets);

    /** Relative L2 and H1 errors (mean over samples) on each test set, in decoded units,
     *  in batches of options.batch_size samples. */
    std::map<std::string, TestErrors>
    evaluate(const std::vector<TestSet> &test_sets);

    /**
     * Train a GINO on point clouds (method.md Sec. 4.3) from the current epoch to
     * options.epochs, evaluating every test set after each epoch; the same schedule,
     * precision policy (and schedule), non-finite handling, history and checkpoints as
     * the grid path. Batches of options.batch_size instances of different point counts
     * go through GINOImpl::forward_batch() (the neighbours are searched once per
     * instance, before the first epoch). The normalisers are fitted per channel over
     * all training points. The loss is the sum over the batch of weighted_relative_l2()
     * of the decoded prediction (physical units, the mesh's quadrature weights), so
     * options.training_loss must be "l2".
     * @throws std::invalid_argument if the model is not a GINO, training_loss is not
     *   "l2", the data are invalid (PointCloudDataset::validate()) or do not fit the
     *   model, a test set's latent grid differs from the training data's, or the
     *   training data's differs from the checkpoint's (a resumed run); as train()
     *   otherwise.
     */
    std::vector<EpochRecord>
    train(const PointCloudDataset &train_data, const std::vector<PointCloudTestSet> &test_sets);

    /** Relative weighted L2 errors (mean over instances; h1 NaN: no point-cloud form) on
     *  each point-cloud test set, in decoded units, one instance at a time. */
    std::map<std::string, TestErrors>
    evaluate(const std::vector<PointCloudTestSet> &test_sets);

    /** Prediction in physical (decoded) units for x [samples, in, n_1.. n_d], float32,
     *  on the device of @p x (computed on options.device). */
    torch::Tensor
    predict(const torch::Tensor &x);

    /**
     * Write the checkpoint directory atomically: every file goes to `DIRECTORY.tmp`,
     * is synced to disk and the directory is then exchanged with (or renamed to)
     * @p directory, so an interrupted run leaves the previous checkpoint loadable.
     */
    void
    save_checkpoint(const std::filesystem::path &directory) const;

    /**
     * Restore model parameters, optimiser, scheduler position, step counters,
     * normalisers, precision, precision schedule (replacing options.precision_schedule;
     * a difference is logged) and the policy raised after non-finite steps from a
     * checkpoint written by save_checkpoint() into this trainer's model (same name and
     * configuration). The next epoch runs in the schedule's phase of that epoch. Falls back to
     * `DIRECTORY.old` (find_checkpoint()). Logs a line listing the Training options
     * that differ from the checkpoint's (the epoch count excepted).
     * @throws std::runtime_error naming the directory and the missing or mismatched item.
     */
    void
    load_checkpoint(const std::filesystem::path &directory);

    /**
     * A trainer that continues the checkpoint in @p checkpoint_directory: the model is
     * rebuilt from the checkpoint's own configuration and precision (reading model.pt
     * once), then optimiser, counters, normalisers, precision schedule and history are
     * restored as by load_checkpoint(). @p options give the epochs to train up to and the device.
     * @throws std::runtime_error naming the directory and what is missing or bad.
     */
    static Trainer
    resume(const std::filesystem::path &checkpoint_directory,
           const TrainerOptions        &options,
           std::filesystem::path        output_directory,
           std::ostream                *log = nullptr);

    int64_t
    epoch() const
    {
      return epoch_;
    }
    int64_t
    global_step() const
    {
      return global_step_;
    }
    int64_t
    skipped_steps() const
    {
      return total_skipped_steps_;
    }
    const std::shared_ptr<NeuralOperator> &
    model() const
    {
      return model_;
    }
    const std::vector<EpochRecord> &
    history() const
    {
      return history_;
    }

    const TrainerOptions &
    options() const
    {
      return options_;
    }

  private:
    // implementation details in trainer.cc and trainer_checkpoint.cc
    struct Impl;
    std::shared_ptr<Impl> impl_;

    /**
     * One optimiser step on the batch (x, y), already on the device and encoded.
     * @return the batch's summed loss, or NaN when the step was skipped because the
     *   loss or the gradient norm was not finite (handle_nonfinite()).
     */
    double
    step(const torch::Tensor &x, const torch::Tensor &y, EpochRecord &record);

    /** The step of the batch whose summed loss is @p loss (not yet back-propagated):
     *  backward, gradient norm (clipped), non-finite check, optimiser step. @return as
     *  step(). */
    double
    step_on_loss(const torch::Tensor &loss, EpochRecord &record);

    /** The start of epoch epoch_ + 1 of a run that began at @p first_epoch: precision
     *  schedule, learning rate, training mode. */
    EpochRecord
    begin_epoch(int64_t first_epoch);

    /** The end of an epoch: test errors @p test_errors, timings, history.csv,
     *  checkpoint, progress line; appends the record to @p records. */
    void
    end_epoch(EpochRecord                          &record,
              std::map<std::string, TestErrors>     test_errors,
              std::chrono::steady_clock::time_point epoch_start,
              int64_t                               first_epoch,
              double                               &run_seconds,
              std::vector<EpochRecord>             &records);

    /** Count and log a skipped step; raise the precision after max_nonfinite_steps in a
     *  row. @throws std::runtime_error when the precision is already the highest. */
    void
    handle_nonfinite(double loss, double grad_norm, EpochRecord &record);

    /** With a precision schedule, set the model's policy for the 1-based @p epoch (held
     *  at the raised policy, if higher) and log a switch. */
    void
    apply_precision_schedule(int64_t epoch);

    /** Optimiser, normalisers, counters and history from a checkpoint whose model has
     *  already been loaded into model_. */
    void
    restore_training_state(const std::filesystem::path &directory, const checkpoint_io::CheckpointState &state);

    /** The precision schedule, its base policy and the raised policy recorded in @p state.
     *  @throws std::runtime_error naming the state file on a malformed entry. */
    void
    restore_precision_schedule(const checkpoint_io::CheckpointState &state);

    std::shared_ptr<NeuralOperator> model_;
    TrainerOptions                  options_;
    std::filesystem::path           output_directory_;
    std::ostream                   *log_;
    int64_t                         epoch_               = 0;
    int64_t                         global_step_         = 0;
    int64_t                         total_skipped_steps_ = 0;
    std::vector<EpochRecord>        history_;
  };

  /**
   * The checkpoint directory to read: @p directory itself, or, when it is missing and
   * `DIRECTORY.old` exists (a replacement interrupted between its two renames, on a
   * file system without an atomic exchange), the latter, which is logged to @p log.
   * @throws std::runtime_error "checkpoint directory 'D' does not exist" otherwise.
   */
  std::filesystem::path
  find_checkpoint(const std::filesystem::path &directory, std::ostream *log = nullptr);

  /**
   * A trained model, ready for inference, rebuilt from a checkpoint directory alone
   * (no training configuration needed).
   */
  struct LoadedModel
  {
    std::shared_ptr<NeuralOperator>       model;
    std::optional<UnitGaussianNormalizer> input_normalizer;     ///< statistics on `device`
    std::optional<UnitGaussianNormalizer> output_normalizer;    ///< statistics on `device`
    torch::Device                         device = torch::kCPU; ///< where the model lives
    int64_t                               epoch  = 0;           ///< epochs trained
    /** The training batch size, used by evaluate() so that its errors are those that
     *  training recorded for its last epoch. */
    int64_t batch_size = 32;
    /** A point-cloud model's latent grid of training (checkpoint entry latent_shape),
     *  e.g. {32, 32}; empty for grid models and checkpoints that do not record it. */
    std::vector<int64_t> latent_shape;

    /** Prediction in physical units for x [samples, in, n_1.. n_d] (no gradient),
     *  float32, on the device of @p x. */
    torch::Tensor
    predict(const torch::Tensor &x) const;

    /** Relative L2 and H1 errors (mean over samples, physical units) on each test set,
     *  as Trainer::evaluate() computes them. */
    std::map<std::string, TestErrors>
    evaluate(const std::vector<TestSet> &test_sets) const;

    /** A GINO's prediction for one point cloud (input x encoded, neighbours searched
     *  unless given), decoded: [n_out, out_channels] float32 on the CPU.
     *  @throws std::invalid_argument if the model is not a GINO, or if latent_shape is
     *  known and the latent grid of @p input (latent_queries [g_1, ..., g_d, d]) is
     *  another. */
    torch::Tensor
    predict(const GINOInput &input) const;

    /** Relative weighted L2 errors on point-cloud test sets, as Trainer::evaluate().
     *  @throws std::invalid_argument naming the set if latent_shape is known and a set
     *  has another latent grid. */
    std::map<std::string, TestErrors>
    evaluate(const std::vector<PointCloudTestSet> &test_sets) const;
  };

  /**
   * Rebuild the model of a checkpoint (find_checkpoint()) with its configuration,
   * precision and normalisers, and move it to @p device. The files are read with the
   * CPU as map location, so a checkpoint written on CUDA loads anywhere.
   * @throws std::runtime_error naming the directory and what is missing or bad.
   */
  LoadedModel
  load_model(const std::filesystem::path &checkpoint_directory,
             const torch::Device         &device = torch::kCPU,
             std::ostream                *log    = nullptr);
} // namespace mpno
