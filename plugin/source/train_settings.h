#pragma once

// Internal to libmpno_plugin: the parsed parameters of `mpno train` and `mpno evaluate`
// as the surrogate library's option structs. Includes LibTorch headers: a .cc that
// includes this must include its deal.II headers first.

#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/surrogate.h>

#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/trainer.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mpno
{
  namespace plugin
  {
    /** Which command reads the settings: each checks what it needs. */
    enum class Command
    {
      train,
      evaluate
    };

    /** Everything `mpno train` and `mpno evaluate` read from their parameter file. */
    struct TrainSettings
    {
      std::filesystem::path parameter_file;
      std::filesystem::path output_directory;
      int                   threads = 1;
      /** `Device` resolved: auto is cuda when torch::cuda::is_available(). Also in
       *  training.device. */
      torch::Device device = torch::kCPU;
      /** `Checkpoint` resolved; empty: output_directory / "checkpoint" (`mpno evaluate`). */
      std::filesystem::path checkpoint;

      /** `Surrogate/Model`. */
      std::string model_name;
      /** The selected model, its subsection parsed; configuration() gives what
       *  make_neural_operator() needs once the data's channels are known. */
      std::shared_ptr<const Surrogate::Interface> surrogate;
      PrecisionPolicy                             precision;
      /** The entry Precision/Autocast as written: "true", "false" or "auto" (then
       *  precision.autocast is native_reduced_products() of the device). */
      std::string autocast_entry = "false";

      std::filesystem::path                                      training_file; ///< resolved
      std::vector<std::pair<std::string, std::filesystem::path>> test_files;    ///< resolved
      std::string                                                input_key;
      std::string                                                output_key;
      int64_t                                                    training_samples = 0;
      bool                                                       encode_input     = false;
      bool                                                       encode_output    = true;

      TrainerOptions        training;
      std::filesystem::path resume_from; ///< resolved; empty: start afresh
    };

    /**
     * Read the declared and parsed @p prm for @p command. @p output_override replaces
     * `Output directory` unless empty.
     * @throws UserError naming the entry and the file for an invalid combination: a
     *   value the pattern admits but the entry forbids (e.g. Learning rate = 0), a
     *   cuda Device without CUDA, a precision the device cannot run, no training file
     *   for `train`.
     */
    TrainSettings
    read_train_settings(dealii::ParameterHandler    &prm,
                        const std::filesystem::path &parameter_file,
                        const std::string           &output_override,
                        Command                      command = Command::train);

    /**
     * @throws UserError naming @p where (e.g. "entry 'Precision/Reduced type'" or "the
     *   checkpoint 'D'") and the parameter file if @p precision cannot run on @p device
     *   (PrecisionPolicy::check_supported() with no grid yet).
     */
    void
    check_precision_on_device(const PrecisionPolicy       &precision,
                              const torch::Device         &device,
                              const std::string           &where,
                              const std::filesystem::path &parameter_file);
  } // namespace plugin
} // namespace mpno
