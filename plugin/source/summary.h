#pragma once

// Internal to libmpno_plugin: summary.json of a run. No LibTorch header.

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace mpno
{
  namespace plugin
  {
    /** Figures of `mpno generate`. */
    struct GenerationSummary
    {
      std::string problem;
      long long   n_dofs             = 0;
      long long   training_instances = 0;
      long long   test_instances     = 0;
      double      mean_iterations    = 0.; ///< CG + AMG iterations (nonlinear problems: Newton steps) per solve
      double      seconds            = 0.;
    };

    /** Figures of `mpno solve` (issue 3's "hybrid" keys and more). Seconds are totals over
     *  the instances; the surrogate's include inference and transfer. */
    struct HybridSummary
    {
      std::string strategy;
      /** What iterations_* count: "CG iterations", or "Newton steps" for a nonlinear
       *  problem (whose zero-guess figures are then those from its classical start). */
      std::string iterations_unit               = "CG iterations";
      long long   instances                     = 0;
      long long   n_dofs                        = 0;
      long long   iterations_zero_guess         = 0;
      long long   iterations_surrogate          = 0;
      double      max_final_relative_residual   = 0.;
      double      seconds_zero_guess            = 0.;
      double      seconds_surrogate             = 0.;
      double      inference_seconds             = 0.;
      double      transfer_seconds              = 0.;
      double      assembly_seconds              = 0.; ///< assembly + preconditioner setup, not in either
      double      mean_surrogate_relative_error = 0.; ///< L2(prediction - u) / L2(u), FE norms
      double      max_surrogate_relative_error  = 0.;
      /** Means over the instances of the raw prediction's (distributed, not smoothed)
       *  relative residual ||b - A p|| / ||b||, and of ||A e_s|| / ||b|| and ||A e_r|| /
       *  ||b||, e = p - u split into e_s (restricted to the inference grid and interpolated
       *  back: the part the grid resolves) and e_r = e - e_s. */
      double    mean_prediction_relative_residual = 0.;
      double    mean_smooth_error_residual        = 0.;
      double    mean_rough_error_residual         = 0.;
      long long fallbacks                         = 0; ///< predictions rejected, or classical solves taken over
      /** Answers accepted by an error bound (strategy `replace`), the largest such bound
       *  and the largest true relative energy-norm error ||u - u_h||_A / ||u_h||_A of them
       *  (u_h the classical solution); NaN without certified answers. */
      long long certified                  = 0;
      double    max_error_bound            = std::nan("");
      double    max_certified_energy_error = std::nan("");
    };

    /** The machine-readable figures of the `mpno` commands (design.md "Files written"). */
    struct RunSummary
    {
      std::string command = "train"; ///< "generate" | "train" | "evaluate" | "solve" | "run"
      std::string device  = "cpu";   ///< torch::Device::str(), e.g. "cpu", "cuda"
      std::string model;
      long long   n_parameters          = 0; ///< real scalars
      long long   n_spectral_parameters = 0; ///< real scalars of the spectral weights (FNO, TFNO)
      std::string precision;                 ///< short label, e.g. "mixed+autocast"
      std::string precision_policy;          ///< PrecisionPolicy::describe()
      long long   epochs        = 0;         ///< epochs trained in total (checkpoint included)
      long long   skipped_steps = 0;
      double      train_loss    = 0.; ///< of the last epoch, mean per sample
      /** Per test set: relative L2 and H1 errors, mean over samples, physical units. */
      std::map<std::string, std::pair<double, double>> test_errors;
      double                           samples_per_second = 0.; ///< training throughput of this run's epochs (0: none)
      double                           training_seconds   = 0.; ///< epochs of this run, evaluation included
      double                           seconds            = 0.; ///< the whole command
      double                           peak_rss_mb        = 0.;
      int                              threads            = 1;
      std::string                      parameter_file;
      std::optional<GenerationSummary> generation;
      std::optional<HybridSummary>     hybrid;
    };

    /** The summary in @p file, if it exists and parses (numbers written as null read as
     *  NaN); std::nullopt otherwise. Its "hybrid" block is read only with
     *  @p with_hybrid (it belongs to the solve that wrote it: `mpno train` drops it). */
    std::optional<RunSummary>
    read_summary(const std::filesystem::path &file, bool with_hybrid = false);

    /** Peak resident set size of this process in MiB (getrusage ru_maxrss). */
    double
    peak_rss_mb();

    /** The summary as a JSON object; non-finite numbers are written as null. */
    std::string
    to_json(const RunSummary &summary);

    /** `mpno solve`'s record: @p hybrid, the command, @p parameter_file, @p seconds and the
     *  peak memory into @p directory/summary.json, keeping what the file already holds
     *  (generation, training). */
    void
    record_solve(const std::filesystem::path &directory,
                 const HybridSummary         &hybrid,
                 const std::filesystem::path &parameter_file,
                 double                       seconds);

    /** Write to_json(summary) to @p file atomically (io::write_file_atomically). */
    void
    write_summary(const RunSummary &summary, const std::filesystem::path &file);
  } // namespace plugin
} // namespace mpno
