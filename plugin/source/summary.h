#pragma once

// Internal to libmpno_plugin: summary.json of a run. No LibTorch header.

#include <filesystem>
#include <map>
#include <string>

namespace mpno
{
  namespace plugin
  {
    /** The machine-readable figures of a `mpno train` or `mpno evaluate` run (design.md
     *  "Files written"). */
    struct RunSummary
    {
      std::string command = "train"; ///< "train" | "evaluate"
      std::string device  = "cpu";   ///< torch::Device::str(), e.g. "cpu", "cuda"
      std::string model;
      long long   n_parameters = 0;  ///< real scalars
      std::string precision;         ///< short label, e.g. "mixed+autocast"
      std::string precision_policy;  ///< PrecisionPolicy::describe()
      long long   epochs        = 0; ///< epochs trained in total (checkpoint included)
      long long   skipped_steps = 0;
      double      train_loss    = 0.; ///< of the last epoch, mean per sample
      /** Per test set: relative L2 and H1 errors, mean over samples, physical units. */
      std::map<std::string, std::pair<double, double>> test_errors;
      double      samples_per_second = 0.; ///< training throughput of this run's epochs (0: none)
      double      training_seconds   = 0.; ///< epochs of this run, evaluation included
      double      seconds            = 0.; ///< the whole command
      double      peak_rss_mb        = 0.;
      int         threads            = 1;
      std::string parameter_file;
    };

    /** Peak resident set size of this process in MiB (getrusage ru_maxrss). */
    double
    peak_rss_mb();

    /** The summary as a JSON object; non-finite numbers are written as null. */
    std::string
    to_json(const RunSummary &summary);

    /** Write to_json(summary) to @p file atomically (io::write_file_atomically). */
    void
    write_summary(const RunSummary &summary, const std::filesystem::path &file);
  } // namespace plugin
} // namespace mpno
