// The point-cloud path of Trainer (GINO, method.md Sec. 4.3) and the inference helpers
// that Trainer and LoadedModel share for point clouds.
#include <mpno/surrogate/gino.h>
#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/trainer.h>

#include "trainer_impl.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace mpno
{
  namespace inference
  {
    torch::Tensor
    encode_points(const UnitGaussianNormalizer &normalizer, const torch::Tensor &values)
    {
      return normalizer.encode(values.t().unsqueeze(0)).squeeze(0).t();
    }

    torch::Tensor
    decode_points(const UnitGaussianNormalizer &normalizer, const torch::Tensor &values)
    {
      return normalizer.decode(values.t().unsqueeze(0)).squeeze(0).t();
    }

    GINOImpl &
    as_gino(NeuralOperator &model, const std::string &what)
    {
      auto *gino = dynamic_cast<GINOImpl *>(&model);
      if (gino == nullptr)
        throw std::invalid_argument(what + ": point-cloud data need the model gino, not " + model.model_name());
      return *gino;
    }

    GINOInput
    prepare_point_cloud(const GINOImpl                              &gino,
                        const std::optional<UnitGaussianNormalizer> &input_normalizer,
                        const torch::Device                         &device,
                        GINOInput                                    input)
    {
      gino.find_neighbors(input);
      if (input.x.defined() && input_normalizer)
        input.x = encode_points(*input_normalizer, input.x.to(input_normalizer->mean().device()));
      for (torch::Tensor *t :
           {&input.input_geom, &input.latent_queries, &input.output_queries, &input.x, &input.latent_features})
        if (t->defined())
          *t = t->to(device);
      return input;
    }

    torch::Tensor
    predict_point_cloud(GINOImpl                                    &gino,
                        const std::optional<UnitGaussianNormalizer> &output_normalizer,
                        const GINOInput                             &prepared)
    {
      torch::NoGradGuard no_grad;
      const bool         was_training = gino.is_training();
      gino.eval();
      torch::Tensor prediction = gino.forward(prepared).to(torch::kFloat);
      gino.train(was_training);
      return output_normalizer ? decode_points(*output_normalizer, prediction) : prediction;
    }

    void
    check_latent_shape(const std::vector<int64_t> &trained, const GINOInput &input, const std::string &what)
    {
      if (trained.empty() || !input.latent_queries.defined())
        return;
      const auto                 sizes = input.latent_queries.sizes();
      const std::vector<int64_t> grid(sizes.begin(), sizes.empty() ? sizes.end() : sizes.end() - 1);
      if (grid != trained)
        throw std::invalid_argument(what + ": the latent grid " + io::shape_to_string(grid) +
                                    " differs from the latent grid " + io::shape_to_string(trained) +
                                    " the model was trained on (its GNO kernels, their reductions over the latent "
                                    "points near each query and its latent FNO are trained for that grid)");
    }

    std::map<std::string, TestErrors>
    point_cloud_test_errors(NeuralOperator                              &model,
                            const std::optional<UnitGaussianNormalizer> &input_normalizer,
                            const std::optional<UnitGaussianNormalizer> &output_normalizer,
                            const torch::Device                         &device,
                            const std::vector<int64_t>                  &latent_shape,
                            const std::vector<PointCloudTestSet>        &test_sets)
    {
      GINOImpl                         &gino = as_gino(model, "evaluate");
      std::map<std::string, TestErrors> errors;
      for (const PointCloudTestSet &set : test_sets)
        {
          set.data.validate("test set '" + set.name + "'");
          if (set.data.size() > 0)
            check_latent_shape(latent_shape, set.data.inputs.front(), "test set '" + set.name + "'");
          double sum = 0;
          for (int64_t k = 0; k < set.data.size(); ++k)
            {
              const torch::Tensor prediction =
                predict_point_cloud(gino,
                                    output_normalizer,
                                    prepare_point_cloud(gino, input_normalizer, device, set.data.inputs[k]));
              sum += weighted_relative_l2(prediction, set.data.y[k].to(device), set.data.weights[k].to(device))
                       .item<double>();
            }
          errors[set.name] = {sum / static_cast<double>(set.data.size()), std::nan("")};
        }
      return errors;
    }
  } // namespace inference

  std::vector<EpochRecord>
  Trainer::train(const PointCloudDataset &train_data, const std::vector<PointCloudTestSet> &test_sets)
  {
    GINOImpl &gino = inference::as_gino(*model_, "Trainer::train");
    if (options_.training_loss != "l2")
      throw std::invalid_argument("Trainer::train: training loss '" + options_.training_loss +
                                  "' has no point-cloud form; use l2 (the weighted relative L2 of "
                                  "weighted_relative_l2())");
    train_data.validate("the training data");
    for (const PointCloudTestSet &set : test_sets)
      set.data.validate("test set '" + set.name + "'");

    // A GINO's GNO reductions over latent neighbourhoods and its latent FNO are trained
    // for one latent grid: a resumed run and the test sets keep it.
    const std::vector<int64_t> latent = train_data.latent_shape();
    if (!impl_->latent_shape.empty() && impl_->latent_shape != latent)
      throw std::invalid_argument("the checkpoint's model was trained on the latent grid " +
                                  io::shape_to_string(impl_->latent_shape) + ", the training data have " +
                                  io::shape_to_string(latent) + ": resume on data with the same latent grid");
    for (const PointCloudTestSet &set : test_sets)
      if (set.data.size() > 0)
        inference::check_latent_shape(latent, set.data.inputs.front(), "test set '" + set.name + "'");
    impl_->latent_shape = latent;

    // Normalisers per channel over all training points: [1, channels, sum n_k].
    const auto all_points = [&](const std::vector<torch::Tensor> &parts) { return torch::cat(parts).t().unsqueeze(0); };
    std::vector<torch::Tensor> x_parts;
    for (const GINOInput &input : train_data.inputs)
      if (input.x.defined())
        x_parts.push_back(input.x);
    if (impl_->input_normalizer && !impl_->input_normalizer->fitted() && !x_parts.empty())
      {
        impl_->input_normalizer->fit(all_points(x_parts));
        impl_->input_normalizer->to(options_.device);
      }
    if (x_parts.empty())
      impl_->input_normalizer.reset();
    if (impl_->output_normalizer && !impl_->output_normalizer->fitted())
      {
        impl_->output_normalizer->fit(all_points(train_data.y));
        impl_->output_normalizer->to(options_.device);
      }

    const torch::Device device = options_.device;
    if (const auto &schedule = options_.precision_schedule; schedule && epoch_ < options_.epochs)
      {
        for (std::size_t k = 0; k < schedule->phases().size(); ++k)
          schedule->phase_policy(impl_->schedule_base, k).check_supported(device, latent);
        apply_precision_schedule(epoch_ + 1);
      }
    model_->precision().check_supported(device, latent);

    // Neighbours once per instance; x encoded once.
    std::vector<GINOInput>     inputs;
    std::vector<torch::Tensor> targets, weights;
    for (int64_t k = 0; k < train_data.size(); ++k)
      {
        inputs.push_back(inference::prepare_point_cloud(gino, impl_->input_normalizer, device, train_data.inputs[k]));
        targets.push_back(train_data.y[k].to(device));
        weights.push_back(train_data.weights[k].to(device));
      }
    std::vector<PointCloudTestSet> prepared_tests = test_sets;
    for (PointCloudTestSet &set : prepared_tests)
      for (GINOInput &input : set.data.inputs)
        gino.find_neighbors(input);
    try
      {
        const torch::Tensor out = inference::predict_point_cloud(gino, impl_->output_normalizer, inputs.front());
        if (out.sizes() != targets.front().sizes())
          throw std::invalid_argument("the model maps instance 0 to " + io::shape_to_string(out.sizes()) +
                                      ", but y is " + io::shape_to_string(targets.front().sizes()));
      }
    catch (const UnsupportedPrecision &)
      {
        throw;
      }
    catch (const std::exception &error)
      {
        const auto *c10_error = dynamic_cast<const c10::Error *>(&error);
        throw std::invalid_argument(std::string("the training data do not fit the model: ") +
                                    (c10_error ? c10_error->what_without_backtrace() : error.what()));
      }

    const int64_t first_epoch = epoch_;
    const int64_t n_samples   = train_data.size();
    if (log_ && epoch_ < options_.epochs)
      training::log_start(*log_, *model_, options_, epoch_, n_samples, "point clouds", "weighted relative L2 loss");

    std::vector<EpochRecord> records;
    double                   run_seconds = 0.;
    while (epoch_ < options_.epochs)
      {
        const auto          epoch_start = std::chrono::steady_clock::now();
        EpochRecord         record      = begin_epoch(first_epoch);
        const torch::Tensor permutation = training::epoch_permutation(options_, epoch_, n_samples);
        const auto          order       = permutation.accessor<int64_t, 1>();

        double  loss_sum        = 0.;
        int64_t trained_samples = 0;
        for (int64_t start = 0; start < n_samples; start += options_.batch_size)
          {
            const int64_t          end = std::min(start + options_.batch_size, n_samples);
            std::vector<GINOInput> batch;
            for (int64_t b = start; b < end; ++b)
              batch.push_back(inputs[order[b]]);
            model_->zero_grad();
            const std::vector<torch::Tensor> outputs = gino.forward_batch(batch);
            torch::Tensor                    loss    = torch::zeros({}, torch::TensorOptions().device(device));
            for (int64_t b = start; b < end; ++b)
              {
                torch::Tensor prediction = outputs[b - start].to(torch::kFloat);
                if (impl_->output_normalizer)
                  prediction = inference::decode_points(*impl_->output_normalizer, prediction);
                loss = loss + weighted_relative_l2(prediction, targets[order[b]], weights[order[b]]);
              }
            const double value = step_on_loss(loss, record);
            if (std::isfinite(value))
              {
                loss_sum += value;
                trained_samples += end - start;
              }
          }
        record.train_loss = trained_samples > 0 ? loss_sum / static_cast<double>(trained_samples) :
                                                  std::numeric_limits<double>::quiet_NaN();
        record.samples_per_second =
          static_cast<double>(n_samples) /
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
        end_epoch(record, evaluate(prepared_tests), epoch_start, first_epoch, run_seconds, records);
      }
    return records;
  }

  std::map<std::string, TestErrors>
  Trainer::evaluate(const std::vector<PointCloudTestSet> &test_sets)
  {
    return inference::point_cloud_test_errors(*model_,
                                              impl_->input_normalizer,
                                              impl_->output_normalizer,
                                              options_.device,
                                              impl_->latent_shape,
                                              test_sets);
  }
} // namespace mpno
