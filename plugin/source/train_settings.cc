#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/parameters.h>

#include "train_settings.h"

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;

    TrainSettings
    read_train_settings(dealii::ParameterHandler &prm,
                        const fs::path           &parameter_file,
                        const std::string        &output_override)
    {
      TrainSettings s;
      s.parameter_file = parameter_file;
      s.output_directory =
        output_override.empty() ? fs::path(prm.get("Output directory")) : fs::path(output_override);
      if (s.output_directory.empty())
        throw UserError("in parameter file '" + parameter_file.string() +
                        "': entry 'Output directory' is empty");
      s.threads = prm.get_integer("Number of threads");

      prm.enter_subsection("Surrogate");
      s.model_name = prm.get("Model");
      prm.enter_subsection("FNO");
      s.fno.n_modes.clear();
      for (const int n : dealii::Utilities::string_to_int(
             dealii::Utilities::split_string_list(prm.get("n_modes"))))
        s.fno.n_modes.push_back(n);
      s.fno.hidden_channels          = prm.get_integer("hidden_channels");
      s.fno.n_layers                 = prm.get_integer("n_layers");
      s.fno.lifting_channel_ratio    = prm.get_double("lifting_channel_ratio");
      s.fno.projection_channel_ratio = prm.get_double("projection_channel_ratio");
      s.fno.channel_mlp_expansion    = prm.get_double("channel_mlp_expansion");
      s.fno.fno_skip                 = prm.get("fno_skip");
      s.fno.channel_mlp_skip         = prm.get("channel_mlp_skip");
      s.fno.norm                     = prm.get("norm");
      s.fno.positional_embedding     = prm.get("positional_embedding");
      s.fno.domain_padding           = prm.get_double("domain_padding");
      s.fno.domain_padding_mode      = prm.get("domain_padding_mode");
      prm.leave_subsection();
      prm.leave_subsection();

      prm.enter_subsection("Precision");
      s.precision.spectral_precision = parse_spectral_precision(prm.get("Spectral precision"));
      s.precision.reduced_type       = parse_reduced_type(prm.get("Reduced type"));
      s.precision.stabilizer         = parse_stabilizer(prm.get("Stabilizer"));
      s.precision.autocast           = prm.get_bool("Autocast");
      prm.leave_subsection();

      prm.enter_subsection("Data");
      s.training_file = resolve_path(prm.get("Training file"), parameter_file);
      for (const auto &[name, path] :
           parse_named_paths(prm.get("Test files"), "Data/Test files", parameter_file))
        s.test_files.emplace_back(name, resolve_path(path, parameter_file));
      s.input_key        = prm.get("Input key");
      s.output_key       = prm.get("Output key");
      s.training_samples = prm.get_integer("Training samples");
      s.encode_input     = prm.get_bool("Encode input");
      s.encode_output    = prm.get_bool("Encode output");
      prm.leave_subsection();

      prm.enter_subsection("Training");
      s.training.epochs              = prm.get_integer("Epochs");
      s.training.batch_size          = prm.get_integer("Batch size");
      s.training.learning_rate       = prm.get_double("Learning rate");
      s.training.weight_decay        = prm.get_double("Weight decay");
      s.training.scheduler           = prm.get("Scheduler");
      s.training.step_size           = prm.get_integer("Scheduler step size");
      s.training.gamma               = prm.get_double("Scheduler gamma");
      s.training.t_max               = prm.get_integer("Scheduler T_max");
      s.training.training_loss       = prm.get("Training loss");
      s.training.gradient_clipping   = prm.get_double("Gradient clipping");
      s.training.seed                = static_cast<uint64_t>(prm.get_integer("Seed"));
      s.training.max_nonfinite_steps = prm.get_integer("Max non-finite steps");
      s.training.checkpoint_every    = prm.get_integer("Checkpoint every");
      s.resume_from                  = resolve_path(prm.get("Resume from"), parameter_file);
      prm.leave_subsection();

      // Combinations the patterns cannot see.
      const auto fail = [&](const std::string &why) {
        throw UserError("in parameter file '" + parameter_file.string() + "': " + why);
      };
      try
        {
          s.fno.validate();
        }
      catch (const std::invalid_argument &error)
        {
          fail(std::string("subsection Surrogate/FNO: ") + error.what());
        }
      try
        {
          s.training.validate();
        }
      catch (const std::invalid_argument &error)
        {
          fail(std::string("subsection ") + error.what());
        }
      if (s.training_file.empty() && s.resume_from.empty())
        fail("entry 'Data/Training file' is empty (it may only be empty when evaluating a "
             "checkpoint: Epochs = 0 with Resume from)");
      return s;
    }
  } // namespace plugin
} // namespace mpno
