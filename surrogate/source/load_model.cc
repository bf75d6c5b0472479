// Inference: load_model(), LoadedModel, and the prediction and test-error helpers that
// Trainer shares (trainer_impl.h).
#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/losses.h>
#include <mpno/surrogate/trainer.h>

#include "checkpoint_io.h"
#include "trainer_impl.h"

#include <stdexcept>

namespace mpno
{
  namespace fs = std::filesystem;
  using namespace checkpoint_io;

  namespace inference
  {
    torch::Tensor
    predict_on_device(NeuralOperator                              &model,
                      const std::optional<UnitGaussianNormalizer> &input_normalizer,
                      const std::optional<UnitGaussianNormalizer> &output_normalizer,
                      const torch::Device                         &device,
                      const torch::Tensor                         &x)
    {
      torch::NoGradGuard no_grad;
      const bool         was_training = model.is_training();
      model.eval();
      torch::Tensor input = x.to(device);
      if (input_normalizer)
        input = input_normalizer->encode(input);
      torch::Tensor out;
      try
        {
          out = model.forward(input).to(torch::kFloat);
        }
      catch (...)
        {
          model.train(was_training);
          throw;
        }
      model.train(was_training);
      return output_normalizer ? output_normalizer->decode(out) : out;
    }

    std::map<std::string, TestErrors>
    test_errors(NeuralOperator                              &model,
                const std::optional<UnitGaussianNormalizer> &input_normalizer,
                const std::optional<UnitGaussianNormalizer> &output_normalizer,
                const torch::Device                         &device,
                const std::vector<TestSet>                  &test_sets,
                int64_t                                      batch_size)
    {
      if (batch_size < 1)
        throw std::invalid_argument("evaluation batch size must be >= 1, got " + std::to_string(batch_size));
      std::map<std::string, TestErrors> result;
      for (const TestSet &set : test_sets)
        {
          if (!set.data.x.defined() || set.data.size() == 0)
            throw std::invalid_argument("test set '" + set.name + "' is empty");
          const int64_t d = set.data.y.dim() - 2;
          const LpLoss  l2_loss(d, 2., LossReduction::none);
          const H1Loss  h1_loss(d, LossReduction::none);
          double        l2 = 0., h1 = 0.;
          const int64_t n = set.data.size();
          for (int64_t start = 0; start < n; start += batch_size)
            {
              const int64_t       end = std::min(start + batch_size, n);
              const torch::Tensor prediction =
                predict_on_device(model, input_normalizer, output_normalizer, device, set.data.x.slice(0, start, end));
              const torch::Tensor target = set.data.y.slice(0, start, end).to(device);
              // Per-sample errors added in float64 in sample order.
              const torch::Tensor l2_samples = l2_loss(prediction, target).to(torch::kCPU, torch::kFloat64);
              const torch::Tensor h1_samples = h1_loss(prediction, target).to(torch::kCPU, torch::kFloat64);
              const auto          l2_values  = l2_samples.accessor<double, 1>();
              const auto          h1_values  = h1_samples.accessor<double, 1>();
              for (int64_t i = 0; i < end - start; ++i)
                {
                  l2 += l2_values[i];
                  h1 += h1_values[i];
                }
            }
          result[set.name] = {l2 / static_cast<double>(n), h1 / static_cast<double>(n)};
        }
      return result;
    }
  } // namespace inference

  torch::Tensor
  LoadedModel::predict(const torch::Tensor &x) const
  {
    if (!model)
      throw std::logic_error("LoadedModel::predict: no model loaded");
    return inference::predict_on_device(*model, input_normalizer, output_normalizer, device, x).to(x.device());
  }

  std::map<std::string, TestErrors>
  LoadedModel::evaluate(const std::vector<TestSet> &test_sets) const
  {
    if (!model)
      throw std::logic_error("LoadedModel::evaluate: no model loaded");
    return inference::test_errors(*model, input_normalizer, output_normalizer, device, test_sets, batch_size);
  }

  torch::Tensor
  LoadedModel::predict(const GINOInput &input) const
  {
    GINOImpl &gino = inference::as_gino(*model, "LoadedModel::predict");
    inference::check_latent_shape(latent_shape, input, "LoadedModel::predict");
    return inference::predict_point_cloud(gino,
                                          output_normalizer,
                                          inference::prepare_point_cloud(gino, input_normalizer, device, input))
      .to(torch::kCPU);
  }

  std::map<std::string, TestErrors>
  LoadedModel::evaluate(const std::vector<PointCloudTestSet> &test_sets) const
  {
    return inference::point_cloud_test_errors(*model,
                                              input_normalizer,
                                              output_normalizer,
                                              device,
                                              latent_shape,
                                              test_sets);
  }

  LoadedModel
  load_model(const fs::path &checkpoint_directory, const torch::Device &device, std::ostream *log)
  {
    const CheckpointState state = open_checkpoint(checkpoint_directory, /*with_optimizer=*/false, log);

    LoadedModel loaded;
    try
      {
        loaded.model = make_neural_operator(state.model_name, state.model_config, state.precision);
      }
    catch (const std::exception &error)
      {
        throw std::runtime_error("cannot rebuild the model from '" + state.file.string() + "': " + error.what());
      }
    restore_model(*loaded.model, state);
    loaded.model->to(device);
    loaded.model->eval();
    loaded.device = device;
    load_normalizers(loaded.input_normalizer, loaded.output_normalizer, state, device);
    loaded.epoch        = state_integer(state, "epoch");
    loaded.latent_shape = state_latent_shape(state);
    if (state.entries.count("training.batch_size"))
      loaded.batch_size = state_integer(state, "training.batch_size");
    return loaded;
  }
} // namespace mpno
