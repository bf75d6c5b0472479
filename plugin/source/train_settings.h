#pragma once

// Internal to libmpno_plugin: the parsed parameters of `mpno train` as the surrogate
// library's option structs. Includes LibTorch headers: a .cc that includes this must
// include its deal.II headers first.

#include <deal.II/base/parameter_handler.h>

#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/precision.h>
#include <mpno/surrogate/trainer.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace mpno
{
  namespace plugin
  {
    /** Everything `mpno train` reads from its parameter file. */
    struct TrainSettings
    {
      std::filesystem::path parameter_file;
      std::filesystem::path output_directory;
      int                   threads = 1;

      std::string     model_name;
      FNOOptions      fno; ///< in/out_channels are set from the data later
      PrecisionPolicy precision;

      std::filesystem::path                                        training_file; ///< resolved
      std::vector<std::pair<std::string, std::filesystem::path>> test_files;    ///< resolved
      std::string                                                  input_key;
      std::string                                                  output_key;
      int64_t                                                      training_samples = 0;
      bool                                                         encode_input     = false;
      bool                                                         encode_output    = true;

      TrainerOptions        training;
      std::filesystem::path resume_from; ///< resolved; empty: start afresh
    };

    /**
     * Read the declared and parsed @p prm. @p output_override replaces `Output
     * directory` unless empty.
     * @throws UserError naming the entry and the file for an invalid combination.
     */
    TrainSettings
    read_train_settings(dealii::ParameterHandler    &prm,
                        const std::filesystem::path &parameter_file,
                        const std::string           &output_override);
  } // namespace plugin
} // namespace mpno
