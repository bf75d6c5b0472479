#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/evaluate_command.h>
#include <mpno/plugin/parameters.h>

#include "command_common.h"

#include <torch/utils.h>

#include <cmath>

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;

    namespace
    {
      void
      run(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
      {
        const auto start = std::chrono::steady_clock::now();

        const TrainSettings s          = read_command_settings(parameter_file, output_override, Command::evaluate);
        const fs::path      checkpoint = s.checkpoint.empty() ? s.output_directory / "checkpoint" : s.checkpoint;
        log << "mpno evaluate: parameter file '" << parameter_file.string() << "', checkpoint '" << checkpoint.string()
            << "', output '" << s.output_directory.string() << "', " << s.threads << " thread(s), device "
            << s.device.str() << std::endl;

        LoadedModel loaded;
        try
          {
            loaded = load_model(checkpoint, s.device, &log);
          }
        catch (const std::runtime_error &error)
          {
            throw UserError("in parameter file '" + parameter_file.string() + "', entry 'Checkpoint'" +
                            (s.checkpoint.empty() ? " (empty: the output directory's)" : "") + ": " + error.what());
          }
        const NeuralOperator &model = *loaded.model;
        check_precision_on_device(model.precision(),
                                  s.device,
                                  "the precision of the checkpoint '" + checkpoint.string() + "' (entry 'Checkpoint')",
                                  parameter_file);
        log << "Model: " << model.model_name() << ", " << count_parameters(model) << " parameters, trained for "
            << loaded.epoch << " epochs" << std::endl;
        log << "Precision: " << model.precision().describe(s.device) << std::endl;

        // A GINO is evaluated on point clouds, every other model on grids.
        const bool                        clouds = model.model_name() == "gino";
        std::map<std::string, TestErrors> errors;
        try
          {
            errors = clouds ? loaded.evaluate(load_point_cloud_test_sets(s, log)) :
                              loaded.evaluate(load_test_sets(s, spatial_dim_of(model, s), log));
          }
        catch (const std::invalid_argument &error)
          {
            throw UserError("in parameter file '" + parameter_file.string() + "', the checkpoint '" +
                            checkpoint.string() +
                            "' (entry 'Checkpoint') on the test sets ('Data/Test files'): " + error.what());
          }

        RunSummary summary = make_summary("evaluate", model, s, errors, start);
        summary.epochs     = loaded.epoch;
        summary.train_loss = std::nan("");
        fs::create_directories(s.output_directory);
        write_summary(summary, s.output_directory / "summary.json");

        log_test_errors(log, errors, summary.epochs);
        log << "Written to '" << (s.output_directory / "summary.json").string() << "'" << std::endl;
      }
    } // namespace

    void
    run_evaluate_command(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
    {
      without_backtrace([&] { run(parameter_file, output_override, log); });
    }
  } // namespace plugin
} // namespace mpno
