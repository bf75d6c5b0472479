#pragma once

// Internal to libmpno_plugin: what `mpno train` and `mpno evaluate` share: loading the
// data files a parameter file names, the summary, the closing table. Includes LibTorch
// headers: a .cc that includes this must include its deal.II headers first.

#include "summary.h"
#include "train_settings.h"

#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/neural_operator.h>
#include <mpno/surrogate/point_cloud_dataset.h>
#include <mpno/surrogate/trainer.h>

#include <chrono>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace mpno
{
  namespace plugin
  {
    /**
     * What both commands do first: load the `Additional shared libraries` of
     * @p parameter_file, declare and parse every entry, read the settings for
     * @p command and set LibTorch's thread count (after MPI_InitFinalize in main,
     * which limits deal.II's threads, not LibTorch's).
     * @throws UserError naming the entry and the parameter file.
     */
    TrainSettings
    read_command_settings(const std::filesystem::path &parameter_file,
                          const std::string           &output_override,
                          Command                      command);

    /**
     * Load the data file named by @p entry (d = @p spatial_dim spatial axes, the first
     * @p max_samples samples, 0: all): a .pt file (keys `Data/Input key` and `Output
     * key`) or a dataset.h5 of `mpno generate`, whose set `test_SET` (if present) or
     * `SET` is read, SET = @p set_name.
     * @throws UserError naming the entry and the parameter file.
     */
    TensorDataset
    load_data(const TrainSettings         &s,
              const std::string           &entry,
              const std::filesystem::path &path,
              int64_t                      max_samples,
              int64_t                      spatial_dim,
              const std::string           &set_name = "train");

    /** Every set of `Data/Test files`, logged with its shapes. */
    std::vector<TestSet>
    load_test_sets(const TrainSettings &s, int64_t spatial_dim, std::ostream &log);

    /** Whether `Data/Training file` is a dataset.h5 whose set `train` holds point clouds
     *  (`mpno generate` for a Problem whose geometry varies). */
    bool
    training_data_are_point_clouds(const TrainSettings &s);

    /**
     * The point-cloud set `test_SET` (if present) or `SET` (SET = @p set_name, the first
     * @p max_samples instances; 0: all) of the dataset.h5 @p path named by @p entry.
     * @throws UserError naming the entry, the parameter file and what read_point_cloud_set()
     *   found missing or mis-shaped.
     */
    PointCloudDataset
    load_point_cloud_data(const TrainSettings         &s,
                          const std::string           &entry,
                          const std::filesystem::path &path,
                          int64_t                      max_samples,
                          const std::string           &set_name = "train");

    /** Every point-cloud set of `Data/Test files` (else the test sets of the training
     *  dataset.h5), logged with its instance and point counts. */
    std::vector<PointCloudTestSet>
    load_point_cloud_test_sets(const TrainSettings &s, std::ostream &log);

    /** The number of spatial axes the model works on: an FNO's number of n_modes; for
     *  other models that of the selected Surrogate plugin. */
    int64_t
    spatial_dim_of(const NeuralOperator &model, const TrainSettings &s);

    /** Real scalars among the model's parameters. */
    long long
    count_parameters(const NeuralOperator &model);

    /** The real scalars of the spectral weights (dense or factorized) of an FNO, TFNO,
     *  SFNO or of a GINO's latent FNO; 0 for other models. */
    long long
    count_spectral_parameters(const NeuralOperator &model);

    /**
     * The summary fields that both commands fill alike (command, device, model,
     * precision, test errors, threads, parameter file, peak RSS, total seconds since
     * @p start); the caller adds the training figures.
     */
    RunSummary
    make_summary(const std::string                       &command,
                 const NeuralOperator                    &model,
                 const TrainSettings                     &s,
                 const std::map<std::string, TestErrors> &errors,
                 std::chrono::steady_clock::time_point    start);

    /** The closing table: relative L2 and H1 errors per test set. */
    void
    log_test_errors(std::ostream &log, const std::map<std::string, TestErrors> &errors, int64_t epochs);

    /** Run @p command, turning a c10::Error into a std::runtime_error with LibTorch's
     *  message alone (no C++ stack trace). */
    void
    without_backtrace(const std::function<void()> &command);
  } // namespace plugin
} // namespace mpno
