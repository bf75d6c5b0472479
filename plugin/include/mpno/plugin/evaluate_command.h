#pragma once

// `mpno evaluate FILE.prm [--output DIR]`. No LibTorch header here (design.md).

#include <filesystem>
#include <ostream>
#include <string>

namespace mpno
{
  namespace plugin
  {
    /**
     * Evaluate a trained surrogate on the test sets of @p parameter_file: the model, its
     * precision and normalisers come from the checkpoint named by the top-level entry
     * `Checkpoint` (empty: checkpoint/ in the output directory), so the file needs no
     * Surrogate, Precision or Training subsection; `Data/Test files` (with `Input key`
     * and `Output key`) name the data, `Device` where it runs. Writes summary.json
     * (test errors per set, epochs trained, precision) into the output directory (the
     * file's `Output directory`, unless @p output_override is not empty). The test
     * errors are computed as training computed them for its last epoch (the
     * checkpoint's batch size), so they reproduce the training's summary exactly on the
     * same device.
     *
     * @throws UserError for problems in the parameter file, the checkpoint or the data
     *   (messages name the entry and the file).
     */
    void
    run_evaluate_command(const std::filesystem::path &parameter_file,
                         const std::string           &output_override,
                         std::ostream                &log);
  } // namespace plugin
} // namespace mpno
