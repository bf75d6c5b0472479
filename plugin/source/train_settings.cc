#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/parameters.h>

#include "train_settings.h"

#include <mpno/surrogate/io_utils.h>

#include <torch/cuda.h>

#include <sstream>

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;

    namespace
    {
      /** `Device`: auto is cuda when LibTorch sees a CUDA device. */
      torch::Device
      read_device(const std::string &value, const fs::path &parameter_file)
      {
        const bool cuda_available = torch::cuda::is_available();
        if (value == "cuda" && !cuda_available)
          throw UserError("in parameter file '" + parameter_file.string() +
                          "', entry 'Device' = cuda: CUDA is not available to LibTorch (a "
                          "CPU-only build, or no visible GPU); use Device = cpu or auto");
        if (value == "cuda" || (value == "auto" && cuda_available))
          return torch::Device(torch::kCUDA);
        return torch::Device(torch::kCPU);
      }

      void
      read_training(dealii::ParameterHandler &prm, TrainerOptions &t)
      {
        t.epochs              = prm.get_integer("Epochs");
        t.batch_size          = prm.get_integer("Batch size");
        t.learning_rate       = prm.get_double("Learning rate");
        t.weight_decay        = prm.get_double("Weight decay");
        t.optimizer           = prm.get("Optimizer");
        t.scheduler           = prm.get("Scheduler");
        t.step_size           = prm.get_integer("Scheduler step size");
        t.gamma               = prm.get_double("Scheduler gamma");
        t.t_max               = prm.get_integer("Scheduler T_max");
        t.training_loss       = prm.get("Training loss");
        t.gradient_clipping   = prm.get_double("Gradient clipping");
        t.seed                = static_cast<uint64_t>(prm.get_integer("Seed"));
        t.max_nonfinite_steps = prm.get_integer("Max non-finite steps");
        t.checkpoint_every    = prm.get_integer("Checkpoint every");
      }
    } // namespace

    void
    check_precision_on_device(const PrecisionPolicy &precision,
                              const torch::Device   &device,
                              const std::string     &where,
                              const fs::path        &parameter_file)
    {
      try
        {
          precision.check_supported(device, {});
        }
      catch (const std::invalid_argument &error)
        {
          throw UserError("in parameter file '" + parameter_file.string() + "', " + where +
                          " (Spectral precision = " + to_string(precision.spectral_precision) +
                          ", Reduced type = " + to_string(precision.reduced_type) +
                          ", Autocast (as resolved) = " + (precision.autocast ? "true" : "false") +
                          ", Device = " + device.str() +
                          "): " + error.what());
        }
    }

    TrainSettings
    read_train_settings(dealii::ParameterHandler &prm,
                        const fs::path           &parameter_file,
                        const std::string        &output_override,
                        const Command             command)
    {
      const auto fail = [&](const std::string &why) {
        throw UserError("in parameter file '" + parameter_file.string() + "': " + why);
      };

      TrainSettings s;
      s.parameter_file   = parameter_file;
      s.output_directory = output_override.empty() ? fs::path(prm.get("Output directory")) : fs::path(output_override);
      if (s.output_directory.empty())
        fail("entry 'Output directory' is empty");
      s.threads    = prm.get_integer("Number of threads");
      s.device     = read_device(prm.get("Device"), parameter_file);
      s.checkpoint = resolve_path(prm.get("Checkpoint"), parameter_file);

      prm.enter_subsection("Surrogate");
      s.model_name = prm.get("Model");
      prm.leave_subsection();

      prm.enter_subsection("Precision");
      s.precision.spectral_precision = parse_spectral_precision(prm.get("Spectral precision"));
      s.precision.reduced_type       = parse_reduced_type(prm.get("Reduced type"));
      s.precision.stabilizer         = parse_stabilizer(prm.get("Stabilizer"));
      s.autocast_entry               = prm.get("Autocast");
      s.precision.autocast           = s.autocast_entry == "auto" ?
                                         native_reduced_products(s.device, s.precision.reduced_dtype(s.device)) :
                                         s.autocast_entry == "true";
      const std::string schedule     = prm.get("Schedule");
      prm.leave_subsection();

      prm.enter_subsection("Data");
      s.training_file = resolve_path(prm.get("Training file"), parameter_file);
      if (s.training_file.empty())
        s.training_file = s.output_directory / "dataset.h5"; // what `mpno generate` writes
      for (const auto &[name, path] : parse_named_paths(prm.get("Test files"), "Data/Test files", parameter_file))
        s.test_files.emplace_back(name, resolve_path(path, parameter_file));
      s.input_key        = prm.get("Input key");
      s.output_key       = prm.get("Output key");
      s.training_samples = prm.get_integer("Training samples");
      s.encode_input     = prm.get_bool("Encode input");
      s.encode_output    = prm.get_bool("Encode output");
      prm.leave_subsection();

      prm.enter_subsection("Training");
      read_training(prm, s.training);
      s.training.device = s.device;
      s.resume_from     = resolve_path(prm.get("Resume from"), parameter_file);
      prm.leave_subsection();
      if (!io::trim(schedule).empty())
        try
          {
            s.training.precision_schedule = PrecisionSchedule::parse(schedule);
          }
        catch (const std::invalid_argument &error)
          {
            fail(std::string("entry 'Precision/Schedule': ") + error.what());
          }

      // The selected model's subsection: values the patterns admit but the model forbids.
      try
        {
          std::shared_ptr<Surrogate::Interface> surrogate = Surrogate::registry().create(s.model_name);
          prm.enter_subsection("Surrogate");
          surrogate->parse_parameters(prm);
          prm.leave_subsection();
          s.surrogate = std::move(surrogate);
        }
      catch (const std::invalid_argument &error)
        {
          fail(error.what());
        }
      if (command == Command::train)
        {
          const auto require_positive = [&](const std::string &entry, double value) {
            if (!(value > 0.))
              {
                std::ostringstream out;
                out << "entry '" << entry << "' must be > 0, got " << value;
                fail(out.str());
              }
          };
          require_positive("Training/Learning rate", s.training.learning_rate);
          require_positive("Training/Scheduler gamma", s.training.gamma);
        }

      // What validate() checks beyond that (a backstop: its messages name the option).
      if (command == Command::train)
        try
          {
            s.training.validate();
          }
        catch (const std::invalid_argument &error)
          {
            fail(std::string("subsection ") + error.what());
          }

      // A precision the device cannot run (a resumed or evaluated model's precision
      // comes from its checkpoint and is checked when it is loaded).
      if (command == Command::train && s.resume_from.empty())
        {
          check_precision_on_device(s.precision, s.device, "entry 'Precision/Reduced type'", parameter_file);
          if (const auto &schedule = s.training.precision_schedule)
            for (std::size_t k = 0; k < schedule->phases().size(); ++k)
              check_precision_on_device(schedule->phase_policy(s.precision, k),
                                        s.device,
                                        "entry 'Precision/Schedule', phase " +
                                          to_string(schedule->phases()[k].precision),
                                        parameter_file);
        }

      if (command == Command::evaluate && s.test_files.empty() && s.training_file.extension() != ".h5")
        fail("entry 'Data/Test files' is empty and 'Data/Training file' is no dataset.h5 with test sets: "
             "mpno evaluate has nothing to evaluate");
      return s;
    }
  } // namespace plugin
} // namespace mpno
