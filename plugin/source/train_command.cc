#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/parameters.h>
#include <mpno/plugin/train_command.h>

#include "summary.h"
#include "train_settings.h"

#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/neural_operator.h>
#include <mpno/surrogate/trainer.h>

#include <torch/utils.h>

#include <chrono>
#include <iomanip>
#include <sstream>

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;

    namespace
    {
      /** Load one .pt data file named by @p entry; errors name the entry and the parameter file. */
      TensorDataset
      load_data(const TrainSettings &s, const std::string &entry, const fs::path &path,
                int64_t max_samples)
      {
        const std::string where =
          "in parameter file '" + s.parameter_file.string() + "', entry '" + entry + "': ";
        if (path.empty())
          throw UserError(where + "no file given");
        if (!fs::is_regular_file(path))
          throw UserError(where + "the data file '" + path.string() + "' does not exist");
        try
          {
            return load_pt_dataset(path.string(), s.input_key, s.output_key,
                                   static_cast<int64_t>(s.fno.n_modes.size()), max_samples);
          }
        catch (const std::exception &error)
          {
            throw UserError(where + error.what());
          }
      }

      long long
      count_parameters(const NeuralOperator &model)
      {
        long long n = 0;
        for (const auto &p : model.parameters())
          n += p.numel() * (p.is_complex() ? 2 : 1);
        return n;
      }

      std::string
      shape(const torch::Tensor &t)
      {
        std::ostringstream out;
        out << t.sizes();
        return out.str();
      }

      void
      run(const fs::path &parameter_file, const std::string &output_override, std::ostream &log)
      {
        const auto start = std::chrono::steady_clock::now();

        dealii::ParameterHandler prm;
        declare_train_parameters(prm);
        parse_parameter_file(prm, parameter_file);
        const TrainSettings s = read_train_settings(prm, parameter_file, output_override);

        // After MPI_InitFinalize (main), which limits deal.II's threads, not LibTorch's.
        torch::set_num_threads(s.threads);
        log << "mpno train: parameter file '" << parameter_file.string() << "', output '"
            << s.output_directory.string() << "', " << s.threads << " thread(s)" << std::endl;

        std::vector<TestSet> test_sets;
        for (const auto &[name, path] : s.test_files)
          {
            test_sets.push_back({name, load_data(s, "Data/Test files", path, 0)});
            log << "Test set '" << name << "': " << path.string() << ", x "
                << shape(test_sets.back().data.x) << ", y " << shape(test_sets.back().data.y)
                << std::endl;
          }

        // Fresh runs build the model from the Surrogate subsection; a resumed run
        // rebuilds it, with its precision, from the checkpoint.
        TensorDataset                   train_data;
        std::shared_ptr<NeuralOperator> model;
        if (s.resume_from.empty())
          {
            train_data = load_data(s, "Data/Training file", s.training_file, s.training_samples);
            log << "Training data: " << s.training_file.string() << ", x "
                << shape(train_data.x) << ", y " << shape(train_data.y) << std::endl;
            FNOOptions fno   = s.fno;
            fno.in_channels  = train_data.x.size(1);
            fno.out_channels = train_data.y.size(1);
            torch::manual_seed(s.training.seed);
            model = make_neural_operator(s.model_name, fno.to_text(), s.precision);
          }
        else
          {
            if (!fs::is_directory(s.resume_from))
              throw UserError("in parameter file '" + parameter_file.string() +
                              "', entry 'Training/Resume from': the checkpoint directory '" +
                              s.resume_from.string() + "' does not exist");
            model = load_model(s.resume_from).model;
            log << "Model and precision from the checkpoint '" << s.resume_from.string()
                << "' (subsections Surrogate and Precision not used)" << std::endl;
          }
        log << "Model: " << model->model_name() << ", " << count_parameters(*model)
            << " parameters" << std::endl;
        log << "Precision: " << model->precision().describe(torch::kCPU) << std::endl;

        Trainer trainer(model, s.training, s.output_directory, &log);
        trainer.set_normalizers(s.encode_input, s.encode_output);
        if (!s.resume_from.empty())
          trainer.load_checkpoint(s.resume_from);

        std::vector<EpochRecord> records;
        if (trainer.epoch() < s.training.epochs)
          {
            if (!train_data.x.defined())
              {
                train_data =
                  load_data(s, "Data/Training file", s.training_file, s.training_samples);
                log << "Training data: " << s.training_file.string() << ", x "
                    << shape(train_data.x) << ", y " << shape(train_data.y) << std::endl;
              }
            records = trainer.train(train_data, test_sets);
          }
        else if (s.training.epochs == 0)
          log << "Epochs = 0: evaluating the checkpoint only" << std::endl;
        else
          log << "The checkpoint is at epoch " << trainer.epoch() << " >= Epochs = "
              << s.training.epochs << ": evaluating only" << std::endl;

        RunSummary summary;
        summary.model            = model->model_name();
        summary.n_parameters     = count_parameters(*model);
        summary.precision_policy = model->precision().describe(torch::kCPU);
        summary.precision = to_string(model->precision().spectral_precision) +
                            (model->precision().autocast ? "+autocast" : "");
        summary.epochs        = trainer.epoch();
        summary.skipped_steps = trainer.skipped_steps();
        summary.train_loss    = trainer.history().empty() ? std::nan("") :
                                                            trainer.history().back().train_loss;
        const auto errors = records.empty() ? trainer.evaluate(test_sets) : records.back().test_errors;
        for (const auto &[name, e] : errors)
          summary.test_errors[name] = {e.l2, e.h1};
        double inverse_rates = 0.;
        for (const EpochRecord &r : records)
          {
            inverse_rates += 1. / r.samples_per_second;
            summary.training_seconds += r.seconds;
          }
        summary.samples_per_second =
          records.empty() ? 0. : static_cast<double>(records.size()) / inverse_rates;
        summary.threads        = s.threads;
        summary.parameter_file = fs::absolute(parameter_file).lexically_normal().string();
        summary.peak_rss_mb    = peak_rss_mb();
        summary.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fs::create_directories(s.output_directory);
        write_summary(summary, s.output_directory / "summary.json");

        log << "Test errors (relative, physical units) after epoch " << summary.epochs << ":"
            << std::endl;
        for (const auto &[name, e] : errors)
          log << "  " << std::setw(8) << name << "  L2 " << std::setprecision(4) << e.l2
              << "  H1 " << e.h1 << std::endl;
        log << std::setprecision(4) << "Training: " << summary.samples_per_second
            << " samples/s, " << summary.training_seconds << " s; total " << summary.seconds
            << " s, peak RSS " << summary.peak_rss_mb << " MB; written to '"
            << s.output_directory.string() << "'" << std::endl;
      }
    } // namespace

    void
    run_train_command(const fs::path &parameter_file, const std::string &output_override,
                      std::ostream &log)
    {
      try
        {
          run(parameter_file, output_override, log);
        }
      catch (const c10::Error &error)
        {
          // LibTorch's message without its C++ stack trace.
          throw std::runtime_error(error.what_without_backtrace());
        }
    }

    void
    print_train_parameters(std::ostream &out)
    {
      dealii::ParameterHandler prm;
      declare_train_parameters(prm);
      prm.print_parameters(out,
                           static_cast<dealii::ParameterHandler::OutputStyle>(
                             dealii::ParameterHandler::PRM |
                             dealii::ParameterHandler::KeepDeclarationOrder));
    }
  } // namespace plugin
} // namespace mpno
