// Boost 1.74's property_tree includes the deprecated global bind placeholders.
#define BOOST_BIND_GLOBAL_PLACEHOLDERS
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/dataset_file.h>
#include <mpno/plugin/parameters.h>
#include <mpno/plugin/train_command.h>

#include "command_common.h"

#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/sfno.h>

#include <torch/utils.h>

#include <cmath>
#include <iomanip>
#include <optional>

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;

    namespace
    {
      /** A trainer continuing `Training/Resume from`, whose model and precision come
       *  from the checkpoint; errors name the entry and the parameter file. */
      Trainer
      resume_trainer(const TrainSettings &s, std::ostream &log)
      {
        const std::string where =
          "in parameter file '" + s.parameter_file.string() + "', entry 'Training/Resume from': ";
        std::optional<Trainer> trainer;
        try
          {
            trainer.emplace(Trainer::resume(s.resume_from, s.training, s.output_directory, &log));
          }
        catch (const std::runtime_error &error)
          {
            throw UserError(where + error.what());
          }
        check_precision_on_device(trainer->model()->precision(),
                                  s.device,
                                  "the precision of the checkpoint '" + s.resume_from.string() +
                                    "' (entry 'Training/Resume from')",
                                  s.parameter_file);
        log << "Model and precision from the checkpoint '" << s.resume_from.string()
            << "' (subsections Surrogate and Precision not used)" << std::endl;
        return std::move(*trainer);
      }

      /** An SFNO's quadrature must be that of the latitude-longitude grid its data were
       *  sampled on (the `grid` attribute mpno generate writes). */
      void
      check_sphere_grid(const NeuralOperator &model, const TrainSettings &s, const fs::path &parameter_file)
      {
        const auto *sfno = dynamic_cast<const SFNOImpl *>(&model);
        if (sfno == nullptr || s.training_file.extension() != ".h5")
          return;
        const auto attributes = read_attributes(s.training_file);
        const auto grid       = attributes.find("grid");
        if (grid != attributes.end() && grid->second.find("latitude-longitude") != std::string::npos &&
            grid->second.rfind(sfno->options().grid, 0) != 0)
          throw UserError("in parameter file '" + parameter_file.string() +
                          "', entry 'Surrogate/SFNO/grid' = " + sfno->options().grid + ", but the training data '" +
                          s.training_file.string() + "' lie on the " + grid->second.substr(0, grid->second.find(' ')) +
                          " grid (e.g. entry 'Problem/Sphere/Grid'): set both to the same grid");
      }

      void
      run(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
      {
        const auto start = std::chrono::steady_clock::now();

        const TrainSettings s = read_command_settings(parameter_file, output_override, Command::train);
        log << "mpno train: parameter file '" << parameter_file.string() << "', output '" << s.output_directory.string()
            << "', " << s.threads << " thread(s), device " << s.device.str() << std::endl;

        // Fresh runs build the model from the Surrogate subsection; a resumed run
        // rebuilds it, with its precision, from the checkpoint.
        const auto load_training_data = [&](int64_t spatial_dim) {
          TensorDataset data = load_data(s, "Data/Training file", s.training_file, s.training_samples, spatial_dim);
          log << "Training data: " << s.training_file.string() << ", x " << io::shape_to_string(data.x.sizes())
              << ", y " << io::shape_to_string(data.y.sizes()) << std::endl;
          return data;
        };
        // Point clouds (a Problem whose geometry varies) go to a point-cloud model.
        const bool clouds = training_data_are_point_clouds(s);
        if (s.resume_from.empty() && clouds != s.surrogate->point_cloud())
          throw UserError("in parameter file '" + parameter_file.string() + "', entry 'Surrogate/Model' = " +
                          s.model_name + ": the training data '" + s.training_file.string() + "' are " +
                          (clouds ? "point clouds (one geometry per instance): use Model = gino" :
                                    "on a grid: Model = " + s.model_name + " takes point clouds"));
        PointCloudDataset      cloud_data;
        TensorDataset          train_data;
        std::optional<Trainer> trainer;
        const auto             start_trainer = [&](const std::string &model_name, const std::string &config) {
          torch::manual_seed(s.training.seed);
          trainer.emplace(make_neural_operator(model_name, config, s.precision), s.training, s.output_directory, &log);
          trainer->set_normalizers(s.encode_input, s.encode_output);
        };
        if (s.resume_from.empty() && clouds)
          {
            cloud_data = load_point_cloud_data(s, "Data/Training file", s.training_file, s.training_samples);
            const GINOInput &first = cloud_data.inputs.front();
            const auto [model_name, config] =
              s.surrogate->point_cloud_configuration(first.x.defined() ? first.x.size(1) : 0,
                                                     cloud_data.y.front().size(1),
                                                     first.latent_features.defined() ? first.latent_features.size(-1) :
                                                                                       0);
            log << "Training data: " << s.training_file.string() << ", " << cloud_data.size()
                << " point clouds, latent grid " << io::shape_to_string(cloud_data.latent_shape()) << std::endl;
            start_trainer(model_name, config);
          }
        else if (s.resume_from.empty())
          {
            train_data                      = load_training_data(s.surrogate->spatial_dimension());
            const auto [model_name, config] = s.surrogate->configuration(train_data.x.size(1), train_data.y.size(1));
            start_trainer(model_name, config);
          }
        else
          trainer.emplace(resume_trainer(s, log));
        const NeuralOperator &model       = *trainer->model();
        const int64_t         spatial_dim = spatial_dim_of(model, s);
        check_sphere_grid(model, s, parameter_file);
        log << "Model: " << model.model_name() << ", " << count_parameters(model) << " parameters ("
            << count_spectral_parameters(model) << " in the spectral weights)" << std::endl;
        log << "Precision: " << model.precision().describe(s.device) << std::endl;
        if (s.autocast_entry == "auto" && s.resume_from.empty())
          log << "Autocast = auto: " << (s.precision.autocast ? "on" : "off") << " ("
              << (s.precision.autocast ? "the device multiplies in " : "the device has no native ")
              << c10::toString(s.precision.reduced_dtype(s.device))
              << (s.precision.autocast ? " natively)" : " products: they would be emulated, slower than float32)")
              << std::endl;
        if (const auto &schedule = trainer->options().precision_schedule)
          log << "Precision schedule: " << schedule->to_string() << " of " << s.training.epochs << " epochs"
              << std::endl;
        const std::vector<TestSet> test_sets = clouds ? std::vector<TestSet>() : load_test_sets(s, spatial_dim, log);
        const std::vector<PointCloudTestSet> cloud_tests =
          clouds ? load_point_cloud_test_sets(s, log) : std::vector<PointCloudTestSet>();

        std::vector<EpochRecord> records;
        if (trainer->epoch() < s.training.epochs && clouds)
          {
            if (cloud_data.inputs.empty())
              cloud_data = load_point_cloud_data(s, "Data/Training file", s.training_file, s.training_samples);
            try
              {
                records = trainer->train(cloud_data, cloud_tests);
              }
            catch (const std::invalid_argument &error)
              {
                throw UserError("in parameter file '" + parameter_file.string() + "': " + error.what());
              }
          }
        else if (trainer->epoch() < s.training.epochs)
          {
            if (!train_data.x.defined())
              train_data = load_training_data(spatial_dim);
            records = trainer->train(train_data, test_sets);
          }
        else if (s.training.epochs == 0)
          log << "Epochs = 0: evaluating the checkpoint only" << std::endl;
        else
          log << "The checkpoint is at epoch " << trainer->epoch() << " >= Epochs = " << s.training.epochs
              << ": evaluating only" << std::endl;

        const auto errors     = !records.empty() ? records.back().test_errors :
                                clouds           ? trainer->evaluate(cloud_tests) :
                                                   trainer->evaluate(test_sets);
        RunSummary summary    = make_summary("train", model, s, errors, start);
        summary.epochs        = trainer->epoch();
        summary.skipped_steps = trainer->skipped_steps();
        summary.train_loss    = trainer->history().empty() ? std::nan("") : trainer->history().back().train_loss;
        double inverse_rates  = 0.;
        for (const EpochRecord &r : records)
          {
            inverse_rates += 1. / r.samples_per_second;
            summary.training_seconds += r.seconds;
          }
        summary.samples_per_second = records.empty() ? 0. : static_cast<double>(records.size()) / inverse_rates;
        fs::create_directories(s.output_directory);
        // Keep the figures of `mpno generate`; those of an earlier `mpno solve` are stale.
        if (const auto previous = read_summary(s.output_directory / "summary.json"))
          summary.generation = previous->generation;
        write_summary(summary, s.output_directory / "summary.json");

        log_test_errors(log, errors, summary.epochs);
        log << std::setprecision(4) << "Training: " << summary.samples_per_second << " samples/s, "
            << summary.training_seconds << " s; total " << summary.seconds << " s, peak RSS " << summary.peak_rss_mb
            << " MB; written to '" << s.output_directory.string() << "'" << std::endl;
      }
    } // namespace

    void
    run_train_command(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
    {
      without_backtrace([&] { run(parameter_file, output_override, log); });
    }

    namespace
    {
      /** One subsection of deal.II's JSON listing as a .prm: each entry's documentation
       *  and pattern as comments above `set name = default`. */
      void
      print_subsection(const boost::property_tree::ptree &tree, const std::string &indent, std::ostream &out)
      {
        for (const auto &[name, node] : tree)
          if (node.count("value") != 0)
            out << indent << "# " << node.get<std::string>("documentation") << '\n'
                << indent << "# Pattern: " << node.get<std::string>("pattern_description") << '\n'
                << indent << "set " << name << " = " << node.get<std::string>("default_value") << "\n\n";
        for (const auto &[name, node] : tree)
          if (node.count("value") == 0)
            {
              out << indent << "subsection " << name << "\n\n";
              print_subsection(node, indent + "  ", out);
              out << indent << "end\n\n";
            }
      }
    } // namespace

    void
    print_train_parameters(std::ostream &out, const fs::path &parameter_file)
    {
      if (!parameter_file.empty())
        {
          if (!fs::is_regular_file(parameter_file))
            throw UserError("parameter file '" + parameter_file.string() + "' does not exist");
          load_shared_libraries(parameter_file);
        }
      dealii::ParameterHandler prm;
      declare_parameters(prm, parameter_file.empty() ? 2 : read_dimension(parameter_file));
      std::stringstream json;
      prm.print_parameters(json,
                           static_cast<dealii::ParameterHandler::OutputStyle>(
                             dealii::ParameterHandler::JSON | dealii::ParameterHandler::KeepDeclarationOrder));
      boost::property_tree::ptree tree;
      boost::property_tree::read_json(json, tree);
      out << "# Every entry of mpno's parameter files with its documentation, pattern and default.\n\n";
      print_subsection(tree, "", out);
    }
  } // namespace plugin
} // namespace mpno
