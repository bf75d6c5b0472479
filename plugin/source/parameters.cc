#include <deal.II/base/exceptions.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/patterns.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/parameters.h>
#include <mpno/plugin/surrogate.h>

#include "job_parameters.h"
#include <mpno/surrogate/io_utils.h>

#include <dlfcn.h>

#include <cctype>
#include <set>
#include <sstream>

namespace mpno
{
  namespace plugin
  {
    namespace fs = std::filesystem;
    using dealii::ParameterHandler;
    namespace Patterns = dealii::Patterns;

    namespace
    {
      void
      declare_surrogate(ParameterHandler &prm)
      {
        prm.enter_subsection("Surrogate");
        prm.declare_entry("Model",
                          "fno",
                          Patterns::Selection(Surrogate::registry().names()),
                          "The neural operator to train, one of: " + Surrogate::registry().documentation() +
                            ". Its parameters are in its own subsection. in_channels and "
                            "out_channels come from the data.");
        Surrogate::registry().declare_parameters(prm);
        prm.leave_subsection();
      }

      void
      declare_precision(ParameterHandler &prm)
      {
        prm.enter_subsection("Precision");
        prm.declare_entry("Spectral precision",
                          "full",
                          Patterns::Selection("full|mixed|half"),
                          "Precision of the Fourier layers (Tu et al. 2024): full (float32 FFT "
                          "and contraction), mixed (float32 FFT, contraction and inverse FFT in "
                          "the reduced type), half (FFT, contraction and inverse FFT in the "
                          "reduced type). On CPU, LibTorch has no reduced-precision FFT: the "
                          "inverse FFT runs in float32 with its output rounded to the reduced "
                          "type, and half is emulated by also rounding the forward FFT's input "
                          "and output. On CUDA, half needs power-of-two grid sizes.");
        prm.declare_entry("Reduced type",
                          "auto",
                          Patterns::Selection("auto|float16|bfloat16"),
                          "The reduced floating point type; auto is float16 on CUDA and "
                          "bfloat16 on CPU. float16 cannot run on CPU (no float16 matrix "
                          "product there) and half needs float16 on CUDA (cuFFT has no bfloat16 "
                          "transform): such combinations are refused.");
        prm.declare_entry("Stabilizer",
                          "none",
                          Patterns::Selection("none|tanh"),
                          "Pre-activation of the spectral branch's input: tanh bounds the FFT "
                          "input against float16 overflow (recommended with mixed and half in "
                          "float16). bfloat16 has float32's exponent range and needs none.");
        prm.declare_entry("Autocast",
                          "false",
                          Patterns::Selection("true|false|auto"),
                          "Run lifting, projection, skips and channel MLPs in the reduced type. "
                          "auto: true where the device multiplies in the reduced type natively "
                          "(CUDA; a CPU with AVX512-BF16 or AMX-BF16), false elsewhere, where "
                          "LibTorch emulates bfloat16 matrix products and convolutions several "
                          "times slower than float32; the log says which was chosen.");
        prm.declare_entry("Schedule",
                          "",
                          Patterns::Anything(),
                          "Precision schedule of training (Tu et al. 2024, zero-shot "
                          "super-resolution): phases FRACTION:PRECISION separated by commas, e.g. "
                          "'0:half, 0.25:mixed, 0.75:full'. FRACTION is the fraction of Training/"
                          "Epochs at which the phase starts (the first 0, strictly increasing, "
                          "below 1): phase k starts with epoch round(FRACTION * Epochs) + 1 (with "
                          "500 epochs: 1-125 half, 126-375 mixed, 376-500 full). PRECISION (half, "
                          "mixed or full) replaces Spectral precision; Autocast applies in half and "
                          "mixed phases and is off in full ones; Stabilizer and Reduced type stay. "
                          "A precision raised after non-finite steps is never lowered by the "
                          "schedule. Empty: no schedule, Spectral precision and Autocast hold "
                          "throughout. A resumed run follows the schedule of its checkpoint.");
        prm.leave_subsection();
      }

      void
      declare_data(ParameterHandler &prm)
      {
        prm.enter_subsection("Data");
        prm.declare_entry("Training file",
                          "",
                          Patterns::FileName(Patterns::FileName::input),
                          "The training data: a .pt file written by torch.save holding a dict of "
                          "tensors (neuraloperator's format), or a dataset.h5 of `mpno generate` "
                          "(its set `train`). Empty: OUTPUT/dataset.h5, what `mpno generate` "
                          "writes. A relative path is resolved against the directory of this "
                          "parameter file. Not used by `mpno evaluate` except as the source of "
                          "test sets.");
        prm.declare_entry("Test files",
                          "",
                          Patterns::Map(Patterns::Anything(), Patterns::Anything()),
                          "Named test sets, 'name: path' pairs separated by commas, e.g. "
                          "'16: ../data/darcy_test_16.pt, 32: ../data/darcy_test_32.pt'; for a "
                          ".h5 path the set test_NAME (or NAME) of that file. Empty with a .h5 "
                          "Training file: every test set of that file. Relative paths are "
                          "resolved against the directory of this parameter file. Each set is "
                          "evaluated after every epoch and by `mpno evaluate` (relative L2 and H1 "
                          "errors in physical units).");
        prm.declare_entry("Input key", "x", Patterns::Anything(), "Key of the input tensor in the .pt dict.");
        prm.declare_entry("Output key", "y", Patterns::Anything(), "Key of the output tensor in the .pt dict.");
        prm.declare_entry("Training samples",
                          "0",
                          Patterns::Integer(0),
                          "Use the first this many training samples; 0 uses all.");
        prm.declare_entry("Encode input",
                          "false",
                          Patterns::Bool(),
                          "Normalise the input channels to zero mean and unit variance over the "
                          "training data (UnitGaussianNormalizer).");
        prm.declare_entry("Encode output",
                          "true",
                          Patterns::Bool(),
                          "Normalise the output channels likewise; the training loss is then "
                          "computed on normalised outputs, test errors always in physical units.");
        prm.leave_subsection();
      }

      void
      declare_training(ParameterHandler &prm)
      {
        prm.enter_subsection("Training");
        prm.declare_entry("Epochs",
                          "20",
                          Patterns::Integer(0),
                          "Total number of epochs; a resumed run continues up to this number. "
                          "0 with Resume from only evaluates the checkpoint.");
        prm.declare_entry("Batch size", "32", Patterns::Integer(1), "Samples per optimiser step.");
        prm.declare_entry("Optimizer",
                          "adamw",
                          Patterns::Selection("adamw|adam"),
                          "adamw: AdamW, the weight decay decoupled from the gradient (neuraloperator's "
                          "default); adam: Adam, the weight decay added to the gradient as an L2 penalty (the "
                          "original FNO code's optimiser). A resumed run must use the checkpoint's.");
        prm.declare_entry("Learning rate", "8e-3", Patterns::Double(0), "Initial learning rate; must be > 0.");
        prm.declare_entry("Weight decay",
                          "1e-4",
                          Patterns::Double(0),
                          "Weight decay: decoupled (Optimizer = adamw) or an L2 penalty on the gradient (adam).");
        prm.declare_entry("Scheduler",
                          "cosine",
                          Patterns::Selection("none|step|cosine"),
                          "Learning-rate schedule per epoch: none; step (multiply by Scheduler "
                          "gamma every Scheduler step size epochs, StepLR); cosine (cosine "
                          "annealing to 0 over Scheduler T_max epochs, CosineAnnealingLR).");
        prm.declare_entry("Scheduler step size",
                          "100",
                          Patterns::Integer(1),
                          "Epochs between learning-rate reductions of the step schedule.");
        prm.declare_entry("Scheduler gamma",
                          "0.5",
                          Patterns::Double(0),
                          "Factor of each reduction of the step schedule; must be > 0.");
        prm.declare_entry("Scheduler T_max",
                          "30",
                          Patterns::Integer(1),
                          "Half period, in epochs, of the cosine schedule.");
        prm.declare_entry("Training loss",
                          "h1",
                          Patterns::Selection("h1|l2"),
                          "The relative loss minimised: h1 (relative H1 norm, with periodic "
                          "central differences) or l2 (relative L2 norm).");
        prm.declare_entry("Gradient clipping",
                          "0",
                          Patterns::Double(0),
                          "Maximal global L2 norm of the gradient; 0 turns clipping off.");
        prm.declare_entry("Seed",
                          "0",
                          Patterns::Integer(0),
                          "Seed of the model's initialisation and of the shuffling (epoch e "
                          "shuffles with Seed + e).");
        prm.declare_entry("Max non-finite steps",
                          "3",
                          Patterns::Integer(1),
                          "Consecutive steps with a non-finite loss or gradient (each skipped) "
                          "after which the precision is raised: half -> mixed -> full -> "
                          "autocast off; at full precision without autocast training stops.");
        prm.declare_entry("Checkpoint every",
                          "1",
                          Patterns::Integer(0),
                          "Write the checkpoint every this many epochs (and after the last); 0: "
                          "only after the last.");
        prm.declare_entry("Resume from",
                          "",
                          Patterns::DirectoryName(),
                          "A checkpoint directory to continue from (model, optimiser, counters, "
                          "normalisers, precision and precision schedule come from it; the "
                          "Surrogate and Precision subsections are then not used); empty starts "
                          "afresh. A relative path is resolved against the directory of this "
                          "parameter file.");
        prm.leave_subsection();
      }
    } // namespace

    namespace
    {
      const std::string libraries_entry = "Additional shared libraries";

      void
      declare_dimension(ParameterHandler &prm)
      {
        prm.declare_entry("Dimension",
                          "2",
                          Patterns::Integer(2, 3),
                          "Space dimension of the problem (2 or 3); read before the other entries, "
                          "since the problems offered depend on it.");
      }

      void
      declare_libraries(ParameterHandler &prm)
      {
        prm.declare_entry(libraries_entry,
                          "",
                          Patterns::List(Patterns::FileName(Patterns::FileName::input)),
                          "Shared libraries (comma separated) loaded before the parameters are "
                          "declared, so that the plugins they register (e.g. a Surrogate model) "
                          "can be selected like built-in ones. A relative path is resolved "
                          "against the directory of this parameter file.");
      }
    } // namespace

    void
    declare_parameters(ParameterHandler &prm, const int dim)
    {
      declare_libraries(prm);
      declare_dimension(prm);
      prm.declare_entry("Output directory",
                        "output",
                        Patterns::DirectoryName(),
                        "Where the commands write dataset.h5 (generate), checkpoint/ and "
                        "history.csv (train), hybrid.csv and solution-NNN.vtu (solve) and "
                        "summary.json (all). Unlike the paths of input files, which are resolved "
                        "against the directory of this parameter file, a relative output "
                        "directory is relative to the working directory, as a command-line "
                        "option would be. `--output DIR` of every command overrides it.");
      prm.declare_entry("Number of threads",
                        "1",
                        Patterns::Integer(1),
                        "LibTorch intra-op threads (1 is fastest for small grids).");
      prm.declare_entry("Device",
                        "auto",
                        Patterns::Selection("auto|cpu|cuda"),
                        "Where the model is trained, evaluated and run for the hybrid solves: "
                        "cpu, cuda (the current CUDA "
                        "device; refused when LibTorch has no CUDA device), or auto (cuda when "
                        "available, else cpu). The data stay on the CPU; each batch is moved.");
      prm.declare_entry("Checkpoint",
                        "",
                        Patterns::DirectoryName(),
                        "The checkpoint directory that `mpno evaluate` and (unless `Hybrid "
                        "solver/Checkpoint` is set) `mpno solve` read (the model, its precision "
                        "and normalisers; no Training subsection needed); empty: checkpoint/ in "
                        "the output directory. A relative path is resolved against the "
                        "directory of this parameter file. Not used by `mpno train`, which "
                        "resumes from Training/Resume from.");
      declare_problem(prm, dim);
      declare_data_generation(prm);
      declare_surrogate(prm);
      declare_precision(prm);
      declare_data(prm);
      declare_training(prm);
      declare_hybrid_solver(prm, dim);
    }

    void
    parse_parameter_file(ParameterHandler &prm, const fs::path &file)
    {
      if (!fs::is_regular_file(file))
        throw UserError("parameter file '" + file.string() + "' does not exist");
      try
        {
          prm.parse_input(file.string());
        }
      catch (const dealii::ExceptionBase &error)
        {
          // print_info() is the message alone, without deal.II's stack trace.
          std::ostringstream message;
          error.print_info(message);
          std::string text = message.str();
          while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
            text.pop_back();
          throw UserError("in parameter file '" + file.string() + "':\n" + text);
        }
    }

    int
    read_dimension(const fs::path &file)
    {
      if (!fs::is_regular_file(file))
        return 2; // parse_parameter_file() says so
      ParameterHandler prm;
      declare_libraries(prm);
      prm.declare_entry("Dimension", "2", Patterns::Anything());
      try
        {
          prm.parse_input(file.string(), "", /*skip_undefined=*/true);
        }
      catch (const dealii::ExceptionBase &)
        {
          return 2; // the full parse names the problem
        }
      const std::string value = io::trim(prm.get("Dimension"));
      if (value != "2" && value != "3")
        throw UserError("in parameter file '" + file.string() + "', entry 'Dimension': expected 2 or 3, got '" + value +
                        "'");
      return value[0] - '0';
    }

    std::vector<fs::path>
    load_shared_libraries(const fs::path &file)
    {
      if (!fs::is_regular_file(file))
        return {}; // parse_parameter_file() says so
      ParameterHandler prm;
      declare_libraries(prm);
      try
        {
          prm.parse_input(file.string(), "", /*skip_undefined=*/true);
        }
      catch (const dealii::ExceptionBase &)
        {
          return {}; // the full parse names the problem
        }
      std::vector<fs::path> loaded;
      for (const std::string &value : dealii::Utilities::split_string_list(prm.get(libraries_entry)))
        {
          // Absolute: dlopen() would search the library path for a name without a '/'
          // (`mpno run x.prm` with `set Additional shared libraries = libx.so`).
          const fs::path path = fs::absolute(resolve_path(value, file));
          if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr)
            {
              const char *why = dlerror();
              throw UserError("in parameter file '" + file.string() + "', entry '" + libraries_entry +
                              "': cannot load '" + path.string() + "': " + (why ? why : "unknown error"));
            }
          loaded.push_back(path);
        }
      return loaded;
    }

    fs::path
    resolve_path(const std::string &value, const fs::path &parameter_file)
    {
      const fs::path path(value);
      if (path.is_absolute() || value.empty())
        return path;
      return (parameter_file.parent_path() / path).lexically_normal();
    }

    std::vector<std::pair<std::string, std::string>>
    parse_named_paths(const std::string &value, const std::string &entry, const fs::path &file)
    {
      using io::trim;
      const auto fail = [&](const std::string &why) {
        throw UserError("in parameter file '" + file.string() + "', entry '" + entry + "': " + why);
      };

      std::vector<std::pair<std::string, std::string>> pairs;
      std::set<std::string>                            names;
      std::istringstream                               in(value);
      std::string                                      item;
      while (std::getline(in, item, ','))
        {
          if (trim(item).empty())
            continue;
          const auto colon = item.find(':');
          if (colon == std::string::npos)
            fail("'" + trim(item) + "' is not of the form 'name: path'");
          const std::string name = trim(item.substr(0, colon));
          const std::string path = trim(item.substr(colon + 1));
          if (name.empty() || path.empty())
            fail("'" + trim(item) + "' needs both a name and a path");
          for (const char c : name)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
              fail("the name '" + name + "' may only contain letters, digits, '_', '-' and '.'");
          if (!names.insert(name).second)
            fail("the name '" + name + "' is given twice");
          pairs.emplace_back(name, path);
        }
      return pairs;
    }
  } // namespace plugin
} // namespace mpno
