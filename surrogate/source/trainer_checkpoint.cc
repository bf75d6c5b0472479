// Trainer: writing, reading and resuming checkpoints (trainer.h).
#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/trainer.h>

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "checkpoint_io.h"
#include "trainer_impl.h"

#include <stdexcept>

namespace mpno
{
  namespace fs = std::filesystem;
  using namespace checkpoint_io;

  namespace
  {
    constexpr const char *training_prefix = "training.";
    // The precision schedule, the autocast of its half and mixed phases, and the policy
    // raised to after non-finite steps (absent when there is none).
    constexpr const char *schedule_key          = "precision_schedule";
    constexpr const char *schedule_autocast_key = "precision_schedule.autocast";
    constexpr const char *raised_precision_key  = "precision_raised.spectral_precision";
    constexpr const char *raised_autocast_key   = "precision_raised.autocast";

    /**
     * "key: checkpoint A, now B" for every Training option recorded in @p state that
     * differs from @p options; the epoch count, which a resumed run normally raises,
     * is left out.
     */
    std::string
    differing_options(const CheckpointState &state, const TrainerOptions &options)
    {
      std::string list;
      for (const auto &[key, value] : options.to_entries())
        {
          if (key == "epochs")
            continue;
          const auto recorded = state.entries.find(training_prefix + key);
          if (recorded != state.entries.end() && recorded->second != value)
            list += (list.empty() ? "" : "; ") + key + ": checkpoint " + recorded->second + ", now " + value;
        }
      return list;
    }
  } // namespace

  void
  Trainer::save_checkpoint(const fs::path &directory) const
  {
    // A partial DIRECTORY.tmp left by an interrupted save is discarded here.
    fs::path staged = directory;
    staged += ".tmp";
    fs::remove_all(staged);
    fs::create_directories(staged);

    save_module(*model_, staged / model_file);
    {
      torch::serialize::OutputArchive archive;
      impl_->optimizer->save(archive);
      archive.save_to((staged / optimizer_file).string());
    }
    save_normalizers(impl_->input_normalizer, impl_->output_normalizer, staged / normalizer_file);

    CheckpointState state;
    state.model_name                 = model_->model_name();
    state.model_config               = model_->config_text();
    state.precision                  = model_->precision();
    auto &e                          = state.entries;
    e["epoch"]                       = std::to_string(epoch_);
    e["global_step"]                 = std::to_string(global_step_);
    e["skipped_steps"]               = std::to_string(total_skipped_steps_);
    e["consecutive_nonfinite_steps"] = std::to_string(impl_->consecutive_nonfinite);
    const auto fitted                = [](const std::optional<UnitGaussianNormalizer> &normalizer) {
      return normalizer && normalizer->fitted() ? "true" : "false";
    };
    e["encode_input"]  = fitted(impl_->input_normalizer);
    e["encode_output"] = fitted(impl_->output_normalizer);
    if (!impl_->latent_shape.empty())
      e[latent_shape_key] = format_latent_shape(impl_->latent_shape);
    if (options_.precision_schedule)
      {
        e[schedule_key]          = options_.precision_schedule->to_string();
        e[schedule_autocast_key] = impl_->schedule_base.autocast ? "true" : "false";
      }
    if (impl_->raised)
      {
        e[raised_precision_key] = to_string(impl_->raised->spectral_precision);
        e[raised_autocast_key]  = impl_->raised->autocast ? "true" : "false";
      }
    // Compared with the options of a resumed run (load_checkpoint() logs differences).
    for (const auto &[key, value] : options_.to_entries())
      e[training_prefix + key] = value;
    io::write_file_atomically(staged / state_file, format_state(state));
    io::write_file_atomically(staged / history_file, format_history(history_));

    replace_directory(staged, directory);
  }

  void
  Trainer::load_checkpoint(const fs::path &directory)
  {
    const CheckpointState state = open_checkpoint(directory, /*with_optimizer=*/true, log_);
    const fs::path        found = directory_of(state);
    if (state.model_name != model_->model_name())
      throw std::runtime_error("checkpoint directory '" + found.string() + "' holds a model '" + state.model_name +
                               "', not '" + model_->model_name() + "'");
    if (state.model_config != model_->config_text() && state.model_config != model_->config_text() + "\n")
      throw std::runtime_error("checkpoint directory '" + found.string() +
                               "' was written for another configuration of '" + state.model_name + "':\n" +
                               state.model_config + "this model has:\n" + model_->config_text());
    restore_model(*model_, state);
    restore_training_state(found, state);
  }

  Trainer
  Trainer::resume(const fs::path       &checkpoint_directory,
                  const TrainerOptions &options,
                  fs::path              output_directory,
                  std::ostream         *log)
  {
    const CheckpointState           state = open_checkpoint(checkpoint_directory, /*with_optimizer=*/true, log);
    std::shared_ptr<NeuralOperator> model;
    try
      {
        model = make_neural_operator(state.model_name, state.model_config, state.precision);
      }
    catch (const std::exception &error)
      {
        throw std::runtime_error("cannot rebuild the model from '" + state.file.string() + "': " + error.what());
      }
    restore_model(*model, state);
    Trainer trainer(model, options, std::move(output_directory), log);
    trainer.restore_training_state(directory_of(state), state);
    return trainer;
  }

  void
  Trainer::restore_precision_schedule(const CheckpointState &state)
  {
    const auto bad = [&](const std::string &why) { throw std::runtime_error("'" + state.file.string() + "': " + why); };
    std::optional<PrecisionSchedule> schedule;
    impl_->schedule_base = model_->precision();
    if (state.entries.count(schedule_key))
      {
        try
          {
            schedule.emplace(PrecisionSchedule::parse(state_entry(state, schedule_key)));
          }
        catch (const std::invalid_argument &error)
          {
            bad(error.what());
          }
        impl_->schedule_base.autocast = state_bool(state, schedule_autocast_key);
      }
    impl_->raised.reset();
    if (state.entries.count(raised_precision_key))
      {
        PrecisionPolicy raised = model_->precision();
        try
          {
            raised.spectral_precision = parse_spectral_precision(state_entry(state, raised_precision_key));
          }
        catch (const std::invalid_argument &error)
          {
            bad(error.what());
          }
        raised.autocast = state_bool(state, raised_autocast_key);
        impl_->raised   = raised;
      }
    if (log_ && !(schedule == options_.precision_schedule))
      *log_ << "Precision schedule from the checkpoint: " << (schedule ? schedule->to_string() : "none")
            << " (the options' " << (options_.precision_schedule ? options_.precision_schedule->to_string() : "none")
            << " is not used)" << std::endl;
    options_.precision_schedule = schedule;
  }

  void
  Trainer::restore_training_state(const fs::path &directory, const CheckpointState &state)
  {
    const fs::path optimizer_path = directory / optimizer_file;
    // Adam's and AdamW's states have the same layout: only the recorded name tells them apart.
    const auto        recorded             = state.entries.find(std::string(training_prefix) + "optimizer");
    const std::string checkpoint_optimizer = recorded != state.entries.end() ? recorded->second : "adamw";
    if (checkpoint_optimizer != options_.optimizer)
      throw std::runtime_error("checkpoint directory '" + directory.string() + "' was trained with the optimizer " +
                               checkpoint_optimizer + ", this run uses " + options_.optimizer +
                               ": resume with optimizer " + checkpoint_optimizer + " (Training/Optimizer)");
    try
      {
        torch::serialize::InputArchive archive;
        archive.load_from(optimizer_path.string(), options_.device);
        impl_->optimizer->load(archive);
      }
    catch (const c10::Error &error)
      {
        throw std::runtime_error("cannot read the optimiser state from '" + optimizer_path.string() +
                                 "': " + error.what_without_backtrace());
      }
    catch (const std::exception &error)
      {
        throw std::runtime_error("cannot read the optimiser state from '" + optimizer_path.string() +
                                 "': " + error.what());
      }
    load_normalizers(impl_->input_normalizer, impl_->output_normalizer, state, options_.device);

    epoch_                       = state_integer(state, "epoch");
    global_step_                 = state_integer(state, "global_step");
    total_skipped_steps_         = state_integer(state, "skipped_steps");
    impl_->consecutive_nonfinite = state_integer(state, "consecutive_nonfinite_steps");
    impl_->latent_shape          = state_latent_shape(state);
    history_ = fs::is_regular_file(directory / history_file) ? read_history(directory / history_file) :
                                                               std::vector<EpochRecord>{};
    restore_precision_schedule(state);
    if (log_)
      {
        *log_ << "Resumed from '" << directory.string() << "' after epoch " << epoch_ << " (step " << global_step_
              << "), precision: " << model_->precision().describe(options_.device) << std::endl;
        if (const std::string changed = differing_options(state, options_); !changed.empty())
          *log_ << "Training options differ from the checkpoint's (the continuation is not "
                << "the run the checkpoint came from): " << changed << std::endl;
      }
  }
} // namespace mpno
