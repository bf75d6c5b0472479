#pragma once

// Internal to libmpno_surrogate: the files of a checkpoint directory and of an
// output directory (state.txt, history.csv), the atomic replacement of a checkpoint
// directory, and the pieces that load_model() and Trainer::load_checkpoint() share.
// Not installed.

#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/trainer.h>

#include <torch/nn/module.h>

#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mpno
{
  namespace checkpoint_io
  {
    /** File names inside a checkpoint directory. */
    inline constexpr const char *model_file      = "model.pt";
    inline constexpr const char *optimizer_file  = "optimizer.pt";
    inline constexpr const char *normalizer_file = "normalizers.pt";
    inline constexpr const char *state_file      = "state.txt";
    inline constexpr const char *history_file    = "history.csv";

    /**
     * Move the complete directory @p staged to @p target. An existing @p target is
     * exchanged atomically (renameat2 RENAME_EXCHANGE) where the file system allows
     * it, otherwise moved aside to `TARGET.old` first (find_checkpoint() falls back to
     * it if a crash comes between the two renames); the old one is removed only after
     * the new one is in place. Every file in @p staged and the directories involved are
     * synced to disk first. @throws std::runtime_error naming the paths.
     */
    void
    replace_directory(const std::filesystem::path &staged, const std::filesystem::path &target);

    /** @throws std::runtime_error "checkpoint directory 'D' has no F" if @p file is missing. */
    void
    require_file(const std::filesystem::path &directory, const std::string &file);

    /**
     * The contents of state.txt: "key = value" lines (format = 1, model, precision.*,
     * counters, normaliser flags, training.* options), then a line "[model config]"
     * followed verbatim by the model's config_text().
     */
    struct CheckpointState
    {
      std::filesystem::path              file; ///< where it was read from, for messages
      std::string                        model_name;
      std::string                        model_config;
      PrecisionPolicy                    precision;
      std::map<std::string, std::string> entries; ///< counters, normaliser flags, options
    };

    std::string
    format_state(const CheckpointState &state);

    /**
     * @throws std::runtime_error naming the file and the bad line, a missing key, a
     *   `format` other than 1 or a boolean other than true / false.
     */
    CheckpointState
    read_state(const std::filesystem::path &file);

    /** The value of @p key; @throws std::runtime_error naming the state file and the key. */
    const std::string &
    state_entry(const CheckpointState &state, const std::string &key);

    /** The entry @p key as an integer; @throws std::runtime_error if missing or malformed. */
    int64_t
    state_integer(const CheckpointState &state, const std::string &key);

    /** The entry @p key as true / false; @throws std::runtime_error otherwise. */
    bool
    state_bool(const CheckpointState &state, const std::string &key);

    /** Key of a point-cloud model's latent grid of training, e.g. "32 32". */
    inline constexpr const char *latent_shape_key = "latent_shape";

    /** @p shape as the entry latent_shape holds it: sizes separated by spaces. */
    std::string
    format_latent_shape(const std::vector<int64_t> &shape);

    /** The entry latent_shape; empty when absent (grid models, older checkpoints).
     *  @throws std::runtime_error naming the file for an empty entry or sizes that are
     *  not positive integers. */
    std::vector<int64_t>
    state_latent_shape(const CheckpointState &state);

    /**
     * The checkpoint in @p directory (find_checkpoint(), logging a fallback to
     * `DIRECTORY.old`), checked to hold state.txt, model.pt, normalizers.pt and, with
     * @p with_optimizer, optimizer.pt. @return its state; state.file's parent is the
     * directory actually used.
     */
    CheckpointState
    open_checkpoint(const std::filesystem::path &directory, bool with_optimizer, std::ostream *log);

    /** The directory of an opened checkpoint. */
    inline std::filesystem::path
    directory_of(const CheckpointState &state)
    {
      return state.file.parent_path();
    }

    /** A double written with max_digits10 digits, so that it reads back exactly. */
    std::string
    exact(double value);

    /** Write the parameters and buffers of @p module (torch::nn::Module::save) to @p file. */
    void
    save_module(const torch::nn::Module &module, const std::filesystem::path &file);

    /**
     * Read what save_module() wrote (with the CPU as map location) into the existing
     * parameters and buffers of @p module by copying, on whatever device they are, so
     * that tensors referenced elsewhere (the optimiser) stay valid.
     * @throws std::runtime_error naming the file and the entry on a missing entry or a
     *   shape or dtype mismatch.
     */
    void
    load_module(torch::nn::Module &module, const std::filesystem::path &file);

    /** Set the precision recorded in @p state and load model.pt into @p model. */
    void
    restore_model(NeuralOperator &model, const CheckpointState &state);

    /** Write the fitted normalisers (absent ones are skipped) to @p file. */
    void
    save_normalizers(const std::optional<UnitGaussianNormalizer> &input,
                     const std::optional<UnitGaussianNormalizer> &output,
                     const std::filesystem::path                 &file);

    /**
     * Read the normalisers of the checkpoint of @p state (its encode_input and
     * encode_output entries say which are present) and move them to @p device.
     * @throws std::runtime_error naming the file.
     */
    void
    load_normalizers(std::optional<UnitGaussianNormalizer> &input,
                     std::optional<UnitGaussianNormalizer> &output,
                     const CheckpointState                 &state,
                     const torch::Device                   &device);

    // history_io.cc

    /** history.csv: header, then one row per record; doubles written exactly. */
    std::string
    format_history(const std::vector<EpochRecord> &history);

    /** @throws std::runtime_error naming the file and the line on a malformed row. */
    std::vector<EpochRecord>
    read_history(const std::filesystem::path &file);
  } // namespace checkpoint_io
} // namespace mpno
