#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/losses.h>
#include <mpno/surrogate/trainer.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>

#include "checkpoint_io.h"
#include "trainer_impl.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace fs = std::filesystem;
  using io::shape_to_string;

  namespace
  {
    bool
    same_policy(const PrecisionPolicy &a, const PrecisionPolicy &b)
    {
      return a.spectral_precision == b.spectral_precision && a.reduced_type == b.reduced_type &&
             a.stabilizer == b.stabilizer && a.autocast == b.autocast;
    }

    /** The rung of @p policy on the ladder of PrecisionPolicy::raised(): half < mixed <
     *  full, autocast on below autocast off at equal spectral precision. */
    int
    ladder_rung(const PrecisionPolicy &policy)
    {
      const int spectral = policy.spectral_precision == SpectralPrecision::half  ? 0 :
                           policy.spectral_precision == SpectralPrecision::mixed ? 1 :
                                                                                   2;
      return 2 * spectral + (policy.autocast ? 0 : 1);
    }

    /** E.g. "mixed (autocast on)". */
    std::string
    short_description(const PrecisionPolicy &policy)
    {
      return to_string(policy.spectral_precision) + " (autocast " + (policy.autocast ? "on" : "off") + ")";
    }

    std::string
    error_text(const std::exception &error)
    {
      if (const auto *c10_error = dynamic_cast<const c10::Error *>(&error))
        return c10_error->what_without_backtrace();
      return error.what();
    }

    double
    seconds_since(std::chrono::steady_clock::time_point start)
    {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    /**
     * Throws std::invalid_argument if one sample of @p data does not go through @p model.
     * A precision the device cannot run is refused first, with check_supported()'s own
     * exception, so that it is not reported as a data problem.
     */
    void
    check_fits(NeuralOperator                              &model,
               const torch::Device                         &device,
               const std::optional<UnitGaussianNormalizer> &input_normalizer,
               const TensorDataset                         &data,
               const std::string                           &what)
    {
      if (!data.x.defined() || !data.y.defined() || data.size() == 0)
        throw std::invalid_argument(what + " is empty");
      if (data.x.dim() < 3 || data.y.dim() != data.x.dim())
        throw std::invalid_argument(what + ": x " + shape_to_string(data.x.sizes()) + " and y " +
                                    shape_to_string(data.y.sizes()) +
                                    " must both be [samples, channels, n_1, ..., n_d]");
      if (data.x.size(0) != data.y.size(0))
        throw std::invalid_argument(what + ": x has " + std::to_string(data.x.size(0)) + " samples, y has " +
                                    std::to_string(data.y.size(0)));
      model.precision().check_supported(device, data.grid_shape());

      torch::NoGradGuard no_grad;
      const bool         was_training = model.is_training();
      model.eval();
      torch::Tensor out;
      try
        {
          torch::Tensor x = data.x.slice(0, 0, 1).to(device);
          out             = model.forward(input_normalizer ? input_normalizer->encode(x) : x);
        }
      catch (const UnsupportedPrecision &)
        {
          model.train(was_training);
          throw; // already names the precision setting and the reason
        }
      catch (const std::exception &error)
        {
          model.train(was_training);
          throw std::invalid_argument(what + " does not fit the model: " + error_text(error));
        }
      model.train(was_training);
      if (out.sizes() != data.y.slice(0, 0, 1).sizes())
        throw std::invalid_argument(
          what + ": the model maps one sample of x " + shape_to_string(data.x.slice(0, 0, 1).sizes()) + " to " +
          shape_to_string(out.sizes()) + ", but y is " + shape_to_string(data.y.slice(0, 0, 1).sizes()));
    }

    /** The progress line of one epoch: loss, test errors, throughput, ETA, skipped steps. */
    std::string
    progress_line(const EpochRecord &record, int64_t epochs, double eta_seconds)
    {
      std::ostringstream line;
      line << "epoch " << record.epoch << '/' << epochs << "  lr " << std::scientific << std::setprecision(2)
           << record.learning_rate << std::defaultfloat << std::setprecision(4) << "  train " << record.train_loss;
      for (const auto &[name, errors] : record.test_errors)
        {
          line << "  [" << name << "] l2 " << errors.l2;
          if (std::isfinite(errors.h1)) // not computed on point clouds
            line << " h1 " << errors.h1;
        }
      line << std::fixed << std::setprecision(0) << "  " << record.samples_per_second << " samples/s  "
           << std::setprecision(1) << record.seconds << " s  ETA " << std::setprecision(0) << eta_seconds
           << " s  skipped " << record.skipped_steps << "  " << record.precision;
      return line.str();
    }
  } // namespace

  namespace training
  {
    void
    log_start(std::ostream         &log,
              const NeuralOperator &model,
              const TrainerOptions &options,
              const int64_t         epoch,
              const int64_t         n,
              const std::string    &what,
              const std::string    &loss)
    {
      log << "Training " << model.model_name() << " on " << n << " " << what << " from epoch " << epoch + 1 << " to "
          << options.epochs << ", batch size " << options.batch_size << ", " << loss << ", device "
          << options.device.str() << ", precision: " << model.precision().describe(options.device)
          << (options.precision_schedule ? ", precision schedule " + options.precision_schedule->to_string() : "")
          << std::endl;
    }

    torch::Tensor
    epoch_permutation(const TrainerOptions &options, const int64_t epoch, const int64_t n)
    {
      auto generator = at::detail::createCPUGenerator(options.seed + static_cast<uint64_t>(epoch));
      return torch::randperm(n, generator, torch::kLong);
    }
  } // namespace training

  Trainer::Trainer(std::shared_ptr<NeuralOperator> model,
                   const TrainerOptions           &options,
                   fs::path                        output_directory,
                   std::ostream                   *log)
    : impl_(std::make_shared<Impl>())
    , model_(std::move(model))
    , options_(options)
    , output_directory_(std::move(output_directory))
    , log_(log)
  {
    if (!model_)
      throw std::invalid_argument("Trainer: no model given");
    options_.validate();
    impl_->schedule_base = model_->precision();

    model_->to(options_.device);
    impl_->parameters = model_->parameters();
    if (options_.optimizer == "adam")
      impl_->optimizer = std::make_unique<torch::optim::Adam>(
        impl_->parameters, torch::optim::AdamOptions(options_.learning_rate).weight_decay(options_.weight_decay));
    else
      impl_->optimizer = std::make_unique<torch::optim::AdamW>(
        impl_->parameters, torch::optim::AdamWOptions(options_.learning_rate).weight_decay(options_.weight_decay));

    if (!output_directory_.empty())
      fs::create_directories(output_directory_);
  }

  void
  Trainer::set_normalizers(bool encode_input, bool encode_output)
  {
    impl_->input_normalizer.reset();
    impl_->output_normalizer.reset();
    if (encode_input)
      impl_->input_normalizer.emplace();
    if (encode_output)
      impl_->output_normalizer.emplace();
  }

  std::vector<EpochRecord>
  Trainer::train(const TensorDataset &train_data, const std::vector<TestSet> &test_sets)
  {
    if (!train_data.x.defined() || train_data.size() == 0)
      throw std::invalid_argument("Trainer::train: the training data is empty");
    for (auto [normalizer, data] :
         {std::pair{&impl_->input_normalizer, &train_data.x}, std::pair{&impl_->output_normalizer, &train_data.y}})
      if (*normalizer && !(*normalizer)->fitted())
        {
          (*normalizer)->fit(*data);
          (*normalizer)->to(options_.device);
        }
    const torch::Device device = options_.device;
    if (const auto &schedule = options_.precision_schedule; schedule && epoch_ < options_.epochs)
      {
        // Every phase must run on every grid, not only the first one.
        for (std::size_t k = 0; k < schedule->phases().size(); ++k)
          {
            const PrecisionPolicy policy = schedule->phase_policy(impl_->schedule_base, k);
            policy.check_supported(device, train_data.grid_shape());
            for (const TestSet &set : test_sets)
              policy.check_supported(device, set.data.grid_shape());
          }
        apply_precision_schedule(epoch_ + 1); // the first epoch's, for check_fits()
      }
    check_fits(*model_, device, impl_->input_normalizer, train_data, "the training data");
    for (const TestSet &set : test_sets)
      check_fits(*model_, device, impl_->input_normalizer, set.data, "test set '" + set.name + "'");

    const int64_t first_epoch = epoch_;
    const int64_t n_samples   = train_data.size();
    if (log_ && epoch_ < options_.epochs)
      training::log_start(*log_, *model_, options_, epoch_, n_samples, "samples", options_.training_loss + " loss");

    std::vector<EpochRecord> records;
    double                   run_seconds = 0.;
    while (epoch_ < options_.epochs)
      {
        const auto          epoch_start = std::chrono::steady_clock::now();
        EpochRecord         record      = begin_epoch(first_epoch);
        const torch::Tensor permutation = training::epoch_permutation(options_, epoch_, n_samples);

        double  loss_sum        = 0.;
        int64_t trained_samples = 0;
        for (int64_t start = 0; start < n_samples; start += options_.batch_size)
          {
            // The data stay on the CPU; each batch is moved to the device and encoded
            // there (the training loss is computed on encoded outputs, as in
            // neuraloperator's Trainer; test errors are in physical units, evaluate()).
            const torch::Tensor index =
              permutation.slice(0, start, std::min(start + options_.batch_size, n_samples)).to(train_data.x.device());
            torch::Tensor x = train_data.x.index_select(0, index).to(device);
            torch::Tensor y = train_data.y.index_select(0, index).to(device);
            if (impl_->input_normalizer)
              x = impl_->input_normalizer->encode(x);
            if (impl_->output_normalizer)
              y = impl_->output_normalizer->encode(y);
            const double loss = step(x, y, record);
            if (std::isfinite(loss))
              {
                loss_sum += loss;
                trained_samples += index.size(0);
              }
          }
        const double train_seconds = seconds_since(epoch_start);

        record.train_loss         = trained_samples > 0 ? loss_sum / static_cast<double>(trained_samples) :
                                                          std::numeric_limits<double>::quiet_NaN();
        record.samples_per_second = static_cast<double>(n_samples) / train_seconds;
        end_epoch(record, evaluate(test_sets), epoch_start, first_epoch, run_seconds, records);
      }
    return records;
  }

  EpochRecord
  Trainer::begin_epoch(const int64_t first_epoch)
  {
    if (epoch_ > first_epoch)
      apply_precision_schedule(epoch_ + 1);
    EpochRecord record;
    record.epoch         = epoch_ + 1;
    record.learning_rate = scheduled_learning_rate(options_, epoch_);
    for (auto &group : impl_->optimizer->param_groups())
      group.options().set_lr(record.learning_rate);
    model_->train();
    return record;
  }

  void
  Trainer::end_epoch(EpochRecord                          &record,
                     std::map<std::string, TestErrors>     test_errors,
                     std::chrono::steady_clock::time_point epoch_start,
                     const int64_t                         first_epoch,
                     double                               &run_seconds,
                     std::vector<EpochRecord>             &records)
  {
    record.test_errors = std::move(test_errors);
    record.precision   = precision_label(model_->precision());
    record.seconds     = seconds_since(epoch_start);
    ++epoch_;
    run_seconds += record.seconds;
    history_.push_back(record);
    records.push_back(record);

    if (!output_directory_.empty())
      {
        io::write_file_atomically(output_directory_ / checkpoint_io::history_file,
                                  checkpoint_io::format_history(history_));
        const bool last = epoch_ == options_.epochs;
        if (last || (options_.checkpoint_every > 0 && epoch_ % options_.checkpoint_every == 0))
          save_checkpoint(output_directory_ / "checkpoint");
      }
    if (log_)
      *log_ << progress_line(record,
                             options_.epochs,
                             run_seconds / static_cast<double>(epoch_ - first_epoch) *
                               static_cast<double>(options_.epochs - epoch_))
            << std::endl;
  }

  double
  Trainer::step(const torch::Tensor &x, const torch::Tensor &y, EpochRecord &record)
  {
    const int64_t d = y.dim() - 2; // spatial dimension

    model_->zero_grad();
    // The model returns float32 in every precision; the cast makes sure the loss (a sum
    // of squares) never runs in the reduced type.
    const torch::Tensor prediction = model_->forward(x).to(torch::kFloat);
    const torch::Tensor loss = options_.training_loss == "h1" ? H1Loss(d)(prediction, y) : LpLoss(d)(prediction, y);
    return step_on_loss(loss, record);
  }

  double
  Trainer::step_on_loss(const torch::Tensor &loss, EpochRecord &record)
  {
    const double loss_value = loss.item<double>();
    double       grad_norm  = std::numeric_limits<double>::quiet_NaN();
    if (std::isfinite(loss_value))
      {
        loss.backward();
        if (options_.gradient_clipping > 0.)
          grad_norm = torch::nn::utils::clip_grad_norm_(impl_->parameters, options_.gradient_clipping);
        else
          {
            torch::NoGradGuard         no_grad;
            std::vector<torch::Tensor> norms;
            for (const torch::Tensor &p : impl_->parameters)
              if (p.grad().defined())
                norms.push_back(p.grad().norm());
            grad_norm = norms.empty() ? 0. : torch::stack(norms).norm().item<double>();
          }
      }
    ++global_step_;

    if (!std::isfinite(loss_value) || !std::isfinite(grad_norm))
      {
        handle_nonfinite(loss_value, grad_norm, record);
        return std::numeric_limits<double>::quiet_NaN();
      }
    impl_->consecutive_nonfinite = 0;
    impl_->optimizer->step();
    return loss_value;
  }

  void
  Trainer::handle_nonfinite(double loss, double grad_norm, EpochRecord &record)
  {
    // Never train on non-finite values: drop the gradients, skip the update.
    model_->zero_grad();
    ++record.skipped_steps;
    ++total_skipped_steps_;
    ++impl_->consecutive_nonfinite;
    if (log_)
      *log_ << "  epoch " << record.epoch << ", step " << global_step_ << ": non-finite "
            << (std::isfinite(loss) ? "gradient norm" : "loss") << " (loss " << loss << ", gradient norm " << grad_norm
            << "), step skipped (" << impl_->consecutive_nonfinite << " in a row) in precision "
            << precision_label(model_->precision()) << std::endl;
    if (impl_->consecutive_nonfinite < options_.max_nonfinite_steps)
      return;

    const PrecisionPolicy current = model_->precision();
    const PrecisionPolicy higher  = current.raised();
    if (same_policy(current, higher))
      throw std::runtime_error(
        "training stopped: " + std::to_string(impl_->consecutive_nonfinite) + " consecutive non-finite steps (epoch " +
        std::to_string(record.epoch) + ", step " + std::to_string(global_step_) + ") in the highest precision (" +
        current.describe(options_.device) + "); lower the learning rate, enable gradient clipping or check the data");
    model_->set_precision(higher);
    impl_->raised                = higher;
    impl_->consecutive_nonfinite = 0;
    if (log_)
      *log_ << "  precision raised after " << options_.max_nonfinite_steps
            << " consecutive non-finite steps: " << current.describe(options_.device) << " -> "
            << higher.describe(options_.device) << std::endl;
  }

  void
  Trainer::apply_precision_schedule(const int64_t epoch)
  {
    const std::optional<PrecisionSchedule> &schedule = options_.precision_schedule;
    if (!schedule)
      return;
    const PrecisionPolicy scheduled = schedule->policy(impl_->schedule_base, epoch, options_.epochs);
    const PrecisionPolicy target =
      impl_->raised && ladder_rung(*impl_->raised) > ladder_rung(scheduled) ? *impl_->raised : scheduled;
    const bool changes = !same_policy(target, model_->precision());
    const bool phase_start =
      epoch > 1 && schedule->phase_index(epoch, options_.epochs) != schedule->phase_index(epoch - 1, options_.epochs);
    model_->set_precision(target);
    if (log_ && (changes || phase_start))
      {
        *log_ << "epoch " << epoch << ": precision schedule switches to " << short_description(scheduled);
        if (!same_policy(target, scheduled))
          *log_ << ", held at " << short_description(target) << " (raised after non-finite steps)";
        *log_ << std::endl;
      }
  }

  std::map<std::string, TestErrors>
  Trainer::evaluate(const std::vector<TestSet> &test_sets)
  {
    return inference::test_errors(*model_,
                                  impl_->input_normalizer,
                                  impl_->output_normalizer,
                                  options_.device,
                                  test_sets,
                                  options_.batch_size);
  }

  torch::Tensor
  Trainer::predict(const torch::Tensor &x)
  {
    return inference::predict_on_device(*model_, impl_->input_normalizer, impl_->output_normalizer, options_.device, x)
      .to(x.device());
  }
} // namespace mpno
