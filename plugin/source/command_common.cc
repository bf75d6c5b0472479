#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/parameters.h>
#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/gino.h>
#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/sfno.h>

#include <mpno/coupling/dataset_file.h>

#include "command_common.h"
#include "dataset_tensors.h"

#include <torch/utils.h>

#include <algorithm>
#include <iomanip>
#include <stdexcept>

namespace mpno
{
  namespace plugin
  {
    TrainSettings
    read_command_settings(const std::filesystem::path &parameter_file,
                          const std::string           &output_override,
                          const Command                command)
    {
      load_shared_libraries(parameter_file);
      dealii::ParameterHandler prm;
      declare_parameters(prm, read_dimension(parameter_file));
      parse_parameter_file(prm, parameter_file);
      TrainSettings settings = read_train_settings(prm, parameter_file, output_override, command);
      torch::set_num_threads(settings.threads);
      return settings;
    }

    namespace fs = std::filesystem;

    namespace
    {
      /** `Data/Test files`, or with none and a generated dataset.h5, each of its test sets. */
      std::vector<std::pair<std::string, fs::path>>
      test_files_of(const TrainSettings &s)
      {
        auto files = s.test_files;
        if (files.empty() && s.training_file.extension() == ".h5" && fs::is_regular_file(s.training_file))
          for (const std::string &set : list_sets(s.training_file))
            if (set != "train")
              files.emplace_back(set.rfind("test_", 0) == 0 ? set.substr(5) : set, s.training_file);
        return files;
      }

      /** "in parameter file 'F', entry 'E': ", the prefix of errors about @p path.
       *  @throws UserError with it if @p path is empty or no file. */
      std::string
      existing_data_file(const TrainSettings &s, const std::string &entry, const fs::path &path)
      {
        const std::string where = "in parameter file '" + s.parameter_file.string() + "', entry '" + entry + "': ";
        if (path.empty())
          throw UserError(where + "no file given");
        if (!fs::is_regular_file(path))
          throw UserError(where + "the data file '" + path.string() + "' does not exist");
        return where;
      }

      /** The set of @p path that @p set_name names: `test_SET` if present, else `SET`. */
      std::string
      set_in_file(const fs::path &path, const std::string &set_name)
      {
        const std::vector<std::string> sets = list_sets(path);
        if (std::find(sets.begin(), sets.end(), "test_" + set_name) != sets.end())
          return "test_" + set_name;
        return set_name;
      }
    } // namespace

    TensorDataset
    load_data(const TrainSettings &s,
              const std::string   &entry,
              const fs::path      &path,
              int64_t              max_samples,
              int64_t              spatial_dim,
              const std::string   &set_name)
    {
      const std::string where = existing_data_file(s, entry, path);
      try
        {
          if (path.extension() == ".h5")
            {
              const std::string set  = set_in_file(path, set_name);
              TensorDataset     data = to_tensor_dataset(read_set(path, set, max_samples));
              if (data.x.dim() != spatial_dim + 2)
                throw std::invalid_argument("set '" + set + "' has " + std::to_string(data.x.dim() - 2) +
                                            " spatial axes, the model " + std::to_string(spatial_dim));
              return data;
            }
          return load_pt_dataset(path.string(), s.input_key, s.output_key, spatial_dim, max_samples);
        }
      catch (const std::exception &error)
        {
          throw UserError(where + error.what());
        }
    }


    bool
    training_data_are_point_clouds(const TrainSettings &s)
    {
      if (s.training_file.extension() != ".h5" || !fs::is_regular_file(s.training_file))
        return false;
      try
        {
          return is_point_cloud_set(s.training_file, "train");
        }
      catch (const std::runtime_error &)
        {
          return false; // load_data() reports what is wrong with the file
        }
    }

    PointCloudDataset
    load_point_cloud_data(const TrainSettings &s,
                          const std::string   &entry,
                          const fs::path      &path,
                          int64_t              max_samples,
                          const std::string   &set_name)
    {
      const std::string where = existing_data_file(s, entry, path);
      if (path.extension() != ".h5")
        throw UserError(where + "point clouds are read from a dataset.h5 of mpno generate, not '" + path.string() +
                        "'");
      try
        {
          return to_point_cloud_dataset(
            read_point_cloud_set(path, set_in_file(path, set_name), static_cast<std::size_t>(max_samples)));
        }
      catch (const std::exception &error)
        {
          throw UserError(where + error.what());
        }
    }

    std::vector<PointCloudTestSet>
    load_point_cloud_test_sets(const TrainSettings &s, std::ostream &log)
    {
      std::vector<PointCloudTestSet> test_sets;
      for (const auto &[name, path] : test_files_of(s))
        {
          test_sets.push_back({name, load_point_cloud_data(s, "Data/Test files", path, 0, name)});
          const PointCloudDataset &data   = test_sets.back().data;
          int64_t                  points = 0;
          for (const GINOInput &input : data.inputs)
            points += input.input_geom.size(0);
          log << "Test set '" << name << "': " << path.string() << ", " << data.size() << " point clouds, "
              << points / std::max<int64_t>(1, data.size()) << " points on average, latent grid "
              << io::shape_to_string(data.latent_shape()) << std::endl;
        }
      return test_sets;
    }

    std::vector<TestSet>
    load_test_sets(const TrainSettings &s, int64_t spatial_dim, std::ostream &log)
    {
      std::vector<TestSet> test_sets;
      for (const auto &[name, path] : test_files_of(s))
        {
          test_sets.push_back({name, load_data(s, "Data/Test files", path, 0, spatial_dim, name)});
          const TensorDataset &data = test_sets.back().data;
          log << "Test set '" << name << "': " << path.string() << ", x " << io::shape_to_string(data.x.sizes())
              << ", y " << io::shape_to_string(data.y.sizes()) << std::endl;
        }
      return test_sets;
    }

    int64_t
    spatial_dim_of(const NeuralOperator &model, const TrainSettings &s)
    {
      if (const auto *fno = dynamic_cast<const FNOImpl *>(&model))
        return static_cast<int64_t>(fno->options().n_modes.size());
      return s.surrogate->spatial_dimension();
    }

    long long
    count_parameters(const NeuralOperator &model)
    {
      long long n = 0;
      for (const auto &p : model.parameters())
        n += p.numel();
      return n;
    }

    long long
    count_spectral_parameters(const NeuralOperator &model)
    {
      if (const auto *fno = dynamic_cast<const FNOImpl *>(&model))
        return fno->n_spectral_parameters();
      if (const auto *sfno = dynamic_cast<const SFNOImpl *>(&model))
        return sfno->n_spectral_parameters();
      if (const auto *gino = dynamic_cast<const GINOImpl *>(&model))
        {
          long long n = 0; // the latent FNO's
          for (const auto &conv : gino->fno_blocks->convs)
            n += conv->n_weight_parameters();
          return n;
        }
      return 0;
    }

    RunSummary
    make_summary(const std::string                       &command,
                 const NeuralOperator                    &model,
                 const TrainSettings                     &s,
                 const std::map<std::string, TestErrors> &errors,
                 std::chrono::steady_clock::time_point    start)
    {
      RunSummary summary;
      summary.command               = command;
      summary.device                = s.device.str();
      summary.model                 = model.model_name();
      summary.n_parameters          = count_parameters(model);
      summary.n_spectral_parameters = count_spectral_parameters(model);
      summary.precision_policy      = model.precision().describe(s.device);
      summary.precision             = precision_label(model.precision());
      for (const auto &[name, e] : errors)
        summary.test_errors[name] = {e.l2, e.h1};
      summary.threads        = s.threads;
      summary.parameter_file = fs::absolute(s.parameter_file).lexically_normal().string();
      summary.peak_rss_mb    = peak_rss_mb();
      summary.seconds        = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return summary;
    }

    void
    log_test_errors(std::ostream &log, const std::map<std::string, TestErrors> &errors, int64_t epochs)
    {
      log << "Test errors (relative, physical units) after epoch " << epochs << ":" << std::endl;
      for (const auto &[name, e] : errors)
        log << "  " << std::setw(8) << name << "  L2 " << std::setprecision(4) << e.l2 << "  H1 " << e.h1 << std::endl;
    }

    void
    without_backtrace(const std::function<void()> &command)
    {
      try
        {
          command();
        }
      catch (const c10::Error &error)
        {
          throw std::runtime_error(error.what_without_backtrace());
        }
    }
  } // namespace plugin
} // namespace mpno
