#pragma once

// `mpno train FILE.prm [--output DIR]`. No LibTorch header here (design.md).

#include <filesystem>
#include <ostream>
#include <string>

namespace mpno
{
  namespace plugin
  {
    /**
     * Train (or, with `Epochs = 0` and `Resume from` set, only evaluate) the surrogate
     * described by @p parameter_file, writing into the output directory (the file's
     * `Output directory`, unless @p output_override is not empty): checkpoint/,
     * history.csv and summary.json. The model runs on the file's `Device`. Progress goes
     * to @p log.
     *
     * @throws UserError for problems in the parameter file or the data it names
     *   (messages name the entry and the file); other exceptions for failures during
     *   training.
     */
    void
    run_train_command(const std::filesystem::path &parameter_file,
                      const std::string           &output_override,
                      std::ostream                &log);

    /** Print every entry of `mpno train` and `mpno evaluate` with its default, pattern and
     *  documentation; with a @p parameter_file, after loading its `Additional shared
     *  libraries` (so their plugins are listed too).
     *  @throws UserError for a missing @p parameter_file or a library that cannot be loaded. */
    void
    print_train_parameters(std::ostream &out, const std::filesystem::path &parameter_file = {});
  } // namespace plugin
} // namespace mpno
