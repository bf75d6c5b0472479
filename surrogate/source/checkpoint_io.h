#pragma once

// Internal to libmpno_surrogate: the files of a checkpoint directory and of an
// output directory (state.txt, history.csv), and the atomic write helpers that
// trainer.cc uses. Not installed.

#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/trainer.h>

#include <torch/nn/module.h>

#include <filesystem>
#include <map>
#include <optional>
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
     * Write @p content to @p path through a temporary sibling file that is renamed
     * into place, so a reader sees either the old or the new file, never a partial
     * one. @throws std::runtime_error naming the path.
     */
    void
    write_file_atomically(const std::filesystem::path &path, const std::string &content);

    /**
     * Move the complete directory @p staged to @p target. An existing @p target is
     * exchanged atomically (renameat2 RENAME_EXCHANGE) where the file system allows
     * it, otherwise moved aside first; the old one is removed only after the new one
     * is in place. @throws std::runtime_error naming the paths.
     */
    void
    replace_directory(const std::filesystem::path &staged, const std::filesystem::path &target);

    /** @throws std::runtime_error "checkpoint directory 'D' has no F" if @p file is missing. */
    void
    require_file(const std::filesystem::path &directory, const std::string &file);

    /**
     * The contents of state.txt: "key = value" lines, then a line "[model config]"
     * followed verbatim by the model's config_text().
     */
    struct CheckpointState
    {
      std::string                        model_name;
      std::string                        model_config;
      PrecisionPolicy                    precision;
      std::map<std::string, std::string> entries; ///< counters, normaliser flags, options
    };

    std::string
    format_state(const CheckpointState &state);

    /** @throws std::runtime_error naming the file and the bad line or missing key. */
    CheckpointState
    read_state(const std::filesystem::path &file);

    /** The value of @p key; @throws std::runtime_error naming @p file and the key. */
    const std::string &
    state_entry(const CheckpointState       &state,
                const std::string           &key,
                const std::filesystem::path &file);

    /** A double written with max_digits10 digits, so that it reads back exactly. */
    std::string
    exact(double value);

    /** Write the parameters and buffers of @p module (torch::nn::Module::save) to @p file. */
    void
    save_module(const torch::nn::Module &module, const std::filesystem::path &file);

    /**
     * Read what save_module() wrote into the existing parameters and buffers of
     * @p module by copying, so that tensors referenced elsewhere (the optimiser, real
     * views of complex weights) stay valid. @throws std::runtime_error naming the
     * file and the entry on a missing entry or a shape or dtype mismatch.
     */
    void
    load_module(torch::nn::Module &module, const std::filesystem::path &file);

    /** Write the fitted normalisers (absent ones are skipped) to @p file. */
    void
    save_normalizers(const std::optional<UnitGaussianNormalizer> &input,
                     const std::optional<UnitGaussianNormalizer> &output,
                     const std::filesystem::path                 &file);

    /**
     * Read the normalisers that @p with_input / @p with_output say are present.
     * @throws std::runtime_error naming the file.
     */
    void
    load_normalizers(std::optional<UnitGaussianNormalizer> &input,
                     std::optional<UnitGaussianNormalizer> &output,
                     bool                                   with_input,
                     bool                                   with_output,
                     const std::filesystem::path           &file);

    /** history.csv: header, then one row per record; doubles written exactly. */
    std::string
    format_history(const std::vector<EpochRecord> &history);

    /** @throws std::runtime_error naming the file and the line on a malformed row. */
    std::vector<EpochRecord>
    read_history(const std::filesystem::path &file);
  } // namespace checkpoint_io
} // namespace mpno
