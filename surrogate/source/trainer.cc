#include <mpno/surrogate/losses.h>
#include <mpno/surrogate/trainer.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "checkpoint_io.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace fs = std::filesystem;
  using namespace checkpoint_io;

  void
  TrainerOptions::validate() const
  {
    const auto fail = [](const std::string &what) {
      throw std::invalid_argument("Training options: " + what);
    };
    if (epochs < 0)
      fail("epochs must be >= 0, got " + std::to_string(epochs));
    if (batch_size < 1)
      fail("batch size must be >= 1, got " + std::to_string(batch_size));
    if (!(learning_rate > 0.))
      fail("learning rate must be > 0, got " + exact(learning_rate));
    if (!(weight_decay >= 0.))
      fail("weight decay must be >= 0, got " + exact(weight_decay));
    if (scheduler != "none" && scheduler != "step" && scheduler != "cosine")
      fail("scheduler must be none, step or cosine, got '" + scheduler + "'");
    if (scheduler == "step" && step_size < 1)
      fail("scheduler step size must be >= 1, got " + std::to_string(step_size));
    if (scheduler == "step" && !(gamma > 0.))
      fail("scheduler gamma must be > 0, got " + exact(gamma));
    if (scheduler == "cosine" && t_max < 1)
      fail("scheduler T_max must be >= 1, got " + std::to_string(t_max));
    if (training_loss != "h1" && training_loss != "l2")
      fail("training loss must be h1 or l2, got '" + training_loss + "'");
    if (!(gradient_clipping >= 0.))
      fail("gradient clipping must be >= 0, got " + exact(gradient_clipping));
    if (max_nonfinite_steps < 1)
      fail("max non-finite steps must be >= 1, got " + std::to_string(max_nonfinite_steps));
    if (checkpoint_every < 0)
      fail("checkpoint every must be >= 0, got " + std::to_string(checkpoint_every));
  }

  double
  scheduled_learning_rate(const TrainerOptions &options, int64_t epoch_index)
  {
    if (options.scheduler == "step")
      return options.learning_rate *
             std::pow(options.gamma, static_cast<double>(epoch_index / options.step_size));
    if (options.scheduler == "cosine")
      return options.learning_rate * 0.5 *
             (1. + std::cos(M_PI * static_cast<double>(epoch_index) /
                            static_cast<double>(options.t_max)));
    return options.learning_rate;
  }

  namespace
  {
    /** The short label of a policy used in history.csv and summary.json, e.g. "mixed+autocast". */
    std::string
    precision_label(const PrecisionPolicy &policy)
    {
      return to_string(policy.spectral_precision) + (policy.autocast ? "+autocast" : "");
    }

    bool
    same_policy(const PrecisionPolicy &a, const PrecisionPolicy &b)
    {
      return a.spectral_precision == b.spectral_precision && a.reduced_type == b.reduced_type &&
             a.stabilizer == b.stabilizer && a.autocast == b.autocast;
    }

    std::string
    error_text(const std::exception &error)
    {
      if (const auto *c10_error = dynamic_cast<const c10::Error *>(&error))
        return c10_error->what_without_backtrace();
      return error.what();
    }

    std::string
    shape_text(const torch::Tensor &t)
    {
      std::ostringstream out;
      out << t.sizes();
      return out.str();
    }

    double
    seconds_since(std::chrono::steady_clock::time_point start)
    {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  } // namespace

  /**
   * The optimiser and the normalisers. torch::optim::AdamW of LibTorch 1.13 treats a
   * complex parameter as one complex number per entry (grad * grad is not |grad|^2),
   * while PyTorch's Python AdamW, which neuraloperator uses, works on
   * view_as_real(param). So the optimiser is given real views of complex parameters,
   * and their gradients are attached as real views before every step.
   */
  struct Trainer::Impl
  {
    torch::Device                          device = torch::kCPU;
    std::vector<torch::Tensor>             parameters;      ///< the model's, as registered
    std::vector<torch::Tensor>             optimized;       ///< real tensors given to AdamW
    std::unique_ptr<torch::optim::AdamW>   optimizer;
    std::optional<UnitGaussianNormalizer>  input_normalizer;
    std::optional<UnitGaussianNormalizer>  output_normalizer;
    int64_t                                consecutive_nonfinite = 0;

    void
    attach_real_gradients()
    {
      for (std::size_t i = 0; i < parameters.size(); ++i)
        if (parameters[i].is_complex())
          {
            if (parameters[i].grad().defined())
              optimized[i].mutable_grad() = torch::view_as_real(parameters[i].grad());
            else
              optimized[i].mutable_grad() = torch::Tensor();
          }
    }

    torch::Tensor
    encode_input(const torch::Tensor &x) const
    {
      return input_normalizer ? input_normalizer->encode(x) : x;
    }
    torch::Tensor
    encode_output(const torch::Tensor &y) const
    {
      return output_normalizer ? output_normalizer->encode(y) : y;
    }
    torch::Tensor
    decode_output(const torch::Tensor &y) const
    {
      return output_normalizer ? output_normalizer->decode(y) : y;
    }
  };

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

    impl_->parameters = model_->parameters();
    if (!impl_->parameters.empty())
      impl_->device = impl_->parameters.front().device();
    for (const torch::Tensor &p : impl_->parameters)
      impl_->optimized.push_back(p.is_complex() ? torch::view_as_real(p.detach()) : p);
    impl_->optimizer = std::make_unique<torch::optim::AdamW>(
      impl_->optimized,
      torch::optim::AdamWOptions(options_.learning_rate).weight_decay(options_.weight_decay));

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

  namespace
  {
    /** Throws std::invalid_argument if one sample of @p data does not go through @p model. */
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
        throw std::invalid_argument(what + ": x " + shape_text(data.x) + " and y " +
                                    shape_text(data.y) +
                                    " must both be [samples, channels, n_1, ..., n_d]");
      if (data.x.size(0) != data.y.size(0))
        throw std::invalid_argument(what + ": x has " + std::to_string(data.x.size(0)) +
                                    " samples, y has " + std::to_string(data.y.size(0)));
      torch::NoGradGuard no_grad;
      const bool         was_training = model.is_training();
      model.eval();
      torch::Tensor out;
      try
        {
          torch::Tensor x = data.x.slice(0, 0, 1).to(device);
          out = model.forward(input_normalizer ? input_normalizer->encode(x) : x);
        }
      catch (const std::exception &error)
        {
          model.train(was_training);
          throw std::invalid_argument(what + " does not fit the model: " + error_text(error));
        }
      model.train(was_training);
      if (out.sizes() != data.y.slice(0, 0, 1).sizes())
        throw std::invalid_argument(what + ": the model maps one sample of x " +
                                    shape_text(data.x.slice(0, 0, 1)) + " to " +
                                    shape_text(out) + ", but y is " +
                                    shape_text(data.y.slice(0, 0, 1)));
    }
  } // namespace

  std::vector<EpochRecord>
  Trainer::train(const TensorDataset &train_data, const std::vector<TestSet> &test_sets)
  {
    if (!train_data.x.defined() || train_data.size() == 0)
      throw std::invalid_argument("Trainer::train: the training data is empty");
    if (impl_->input_normalizer && !impl_->input_normalizer->fitted())
      impl_->input_normalizer->fit(train_data.x);
    if (impl_->output_normalizer && !impl_->output_normalizer->fitted())
      impl_->output_normalizer->fit(train_data.y);
    check_fits(*model_, impl_->device, impl_->input_normalizer, train_data, "the training data");
    for (const TestSet &set : test_sets)
      check_fits(*model_, impl_->device, impl_->input_normalizer, set.data, "test set '" + set.name + "'");

    // The training loss is computed on the encoded (normalised) outputs, as in
    // neuraloperator's Trainer (its DefaultDataProcessor decodes only in eval mode);
    // test errors are always in decoded, physical units (evaluate()).
    const torch::Tensor x_train = impl_->encode_input(train_data.x.to(impl_->device));
    const torch::Tensor y_train = impl_->encode_output(train_data.y.to(impl_->device));
    const int64_t       d       = y_train.dim() - 2;
    const LpLoss        l2_loss(d);
    const H1Loss        h1_loss(d);
    const bool          use_h1    = options_.training_loss == "h1";
    const int64_t       n_samples = train_data.size();

    const int64_t first_epoch = epoch_;
    if (log_ && epoch_ < options_.epochs)
      *log_ << "Training " << model_->model_name() << " on " << n_samples
            << " samples from epoch " << epoch_ + 1 << " to " << options_.epochs
            << ", batch size " << options_.batch_size << ", " << options_.training_loss
            << " loss, precision: " << model_->precision().describe(impl_->device) << std::endl;

    std::vector<EpochRecord> records;
    double                   run_seconds = 0.;
    while (epoch_ < options_.epochs)
      {
        const auto    epoch_start = std::chrono::steady_clock::now();
        EpochRecord   record;
        const int64_t epoch_index = epoch_;
        record.epoch              = epoch_index + 1;
        record.learning_rate      = scheduled_learning_rate(options_, epoch_index);
        for (auto &group : impl_->optimizer->param_groups())
          static_cast<torch::optim::AdamWOptions &>(group.options()).lr(record.learning_rate);

        model_->train();
        auto generator = at::detail::createCPUGenerator(options_.seed +
                                                        static_cast<uint64_t>(epoch_index));
        const torch::Tensor permutation =
          torch::randperm(n_samples, generator, torch::kLong).to(impl_->device);

        double  loss_sum        = 0.;
        int64_t trained_samples = 0;
        for (int64_t start = 0; start < n_samples; start += options_.batch_size)
          {
            const int64_t       end   = std::min(start + options_.batch_size, n_samples);
            const torch::Tensor index = permutation.slice(0, start, end);
            const torch::Tensor x     = x_train.index_select(0, index);
            const torch::Tensor y     = y_train.index_select(0, index);

            model_->zero_grad();
            // The model returns float32 in every precision; the cast makes sure the
            // loss (a sum of squares) never runs in the reduced type.
            const torch::Tensor prediction = model_->forward(x).to(torch::kFloat);
            const torch::Tensor loss =
              use_h1 ? h1_loss(prediction, y) : l2_loss(prediction, y);
            const double loss_value = loss.item<double>();
            double       grad_norm  = std::numeric_limits<double>::quiet_NaN();
            if (std::isfinite(loss_value))
              {
                loss.backward();
                if (options_.gradient_clipping > 0.)
                  grad_norm = torch::nn::utils::clip_grad_norm_(impl_->parameters,
                                                                options_.gradient_clipping);
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
                // Never train on non-finite values: drop the gradients, skip the update.
                model_->zero_grad();
                ++record.skipped_steps;
                ++total_skipped_steps_;
                ++impl_->consecutive_nonfinite;
                if (log_)
                  *log_ << "  epoch " << record.epoch << ", step " << global_step_
                        << ": non-finite " << (std::isfinite(loss_value) ? "gradient norm" : "loss")
                        << " (loss " << loss_value << ", gradient norm " << grad_norm
                        << "), step skipped (" << impl_->consecutive_nonfinite
                        << " in a row) in precision " << precision_label(model_->precision())
                        << std::endl;
                if (impl_->consecutive_nonfinite >= options_.max_nonfinite_steps)
                  {
                    const PrecisionPolicy current = model_->precision();
                    const PrecisionPolicy higher  = current.raised();
                    if (same_policy(current, higher))
                      throw std::runtime_error(
                        "training stopped: " + std::to_string(impl_->consecutive_nonfinite) +
                        " consecutive non-finite steps (epoch " + std::to_string(record.epoch) +
                        ", step " + std::to_string(global_step_) +
                        ") in the highest precision (" + current.describe(impl_->device) +
                        "); lower the learning rate, enable gradient clipping or check the data");
                    model_->set_precision(higher);
                    impl_->consecutive_nonfinite = 0;
                    if (log_)
                      *log_ << "  precision raised after " << options_.max_nonfinite_steps
                            << " consecutive non-finite steps: " << current.describe(impl_->device)
                            << " -> " << higher.describe(impl_->device) << std::endl;
                  }
                continue;
              }

            impl_->consecutive_nonfinite = 0;
            impl_->attach_real_gradients();
            impl_->optimizer->step();
            loss_sum += loss_value;
            trained_samples += end - start;
          }
        const double train_seconds = seconds_since(epoch_start);

        record.train_loss = trained_samples > 0 ?
                              loss_sum / static_cast<double>(trained_samples) :
                              std::numeric_limits<double>::quiet_NaN();
        record.samples_per_second = static_cast<double>(n_samples) / train_seconds;
        record.test_errors        = evaluate(test_sets);
        record.precision          = precision_label(model_->precision());
        record.seconds            = seconds_since(epoch_start);
        ++epoch_;
        run_seconds += record.seconds;
        history_.push_back(record);
        records.push_back(record);

        if (!output_directory_.empty())
          {
            write_file_atomically(output_directory_ / history_file, format_history(history_));
            const bool last = epoch_ == options_.epochs;
            if (last || (options_.checkpoint_every > 0 && epoch_ % options_.checkpoint_every == 0))
              save_checkpoint(output_directory_ / "checkpoint");
          }

        if (log_)
          {
            const double eta = run_seconds / static_cast<double>(epoch_ - first_epoch) *
                               static_cast<double>(options_.epochs - epoch_);
            std::ostringstream line;
            line << "epoch " << record.epoch << '/' << options_.epochs << "  lr "
                 << std::scientific << std::setprecision(2) << record.learning_rate
                 << std::defaultfloat << std::setprecision(4) << "  train " << record.train_loss;
            for (const auto &[name, errors] : record.test_errors)
              line << "  [" << name << "] l2 " << errors.l2 << " h1 " << errors.h1;
            line << std::fixed << std::setprecision(0) << "  " << record.samples_per_second
                 << " samples/s  " << std::setprecision(1) << record.seconds << " s  ETA "
                 << std::setprecision(0) << eta << " s  skipped " << record.skipped_steps
                 << "  " << record.precision;
            *log_ << line.str() << std::endl;
          }
      }
    return records;
  }

  std::map<std::string, TestErrors>
  Trainer::evaluate(const std::vector<TestSet> &test_sets)
  {
    std::map<std::string, TestErrors> result;
    for (const TestSet &set : test_sets)
      {
        if (!set.data.x.defined() || set.data.size() == 0)
          throw std::invalid_argument("test set '" + set.name + "' is empty");
        const int64_t d = set.data.y.dim() - 2;
        const LpLoss  l2_loss(d);
        const H1Loss  h1_loss(d);
        double        l2 = 0., h1 = 0.;
        const int64_t n  = set.data.size();
        for (int64_t start = 0; start < n; start += options_.batch_size)
          {
            const int64_t       end        = std::min(start + options_.batch_size, n);
            const torch::Tensor prediction = predict(set.data.x.slice(0, start, end));
            const torch::Tensor target     = set.data.y.slice(0, start, end).to(impl_->device);
            l2 += l2_loss(prediction, target).item<double>();
            h1 += h1_loss(prediction, target).item<double>();
          }
        result[set.name] = {l2 / static_cast<double>(n), h1 / static_cast<double>(n)};
      }
    return result;
  }

  torch::Tensor
  Trainer::predict(const torch::Tensor &x)
  {
    torch::NoGradGuard no_grad;
    const bool         was_training = model_->is_training();
    model_->eval();
    torch::Tensor out =
      model_->forward(impl_->encode_input(x.to(impl_->device))).to(torch::kFloat);
    out = impl_->decode_output(out);
    model_->train(was_training);
    return out;
  }

  void
  Trainer::save_checkpoint(const fs::path &directory) const
  {
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
    state.model_name   = model_->model_name();
    state.model_config = model_->config_text();
    state.precision    = model_->precision();
    auto &e            = state.entries;
    e["epoch"]                          = std::to_string(epoch_);
    e["global_step"]                    = std::to_string(global_step_);
    e["skipped_steps"]                  = std::to_string(total_skipped_steps_);
    e["consecutive_nonfinite_steps"]    = std::to_string(impl_->consecutive_nonfinite);
    e["encode_input"]  = impl_->input_normalizer && impl_->input_normalizer->fitted() ? "true" : "false";
    e["encode_output"] = impl_->output_normalizer && impl_->output_normalizer->fitted() ? "true" : "false";
    e["training.epochs"]              = std::to_string(options_.epochs);
    e["training.batch_size"]          = std::to_string(options_.batch_size);
    e["training.learning_rate"]       = exact(options_.learning_rate);
    e["training.weight_decay"]        = exact(options_.weight_decay);
    e["training.scheduler"]           = options_.scheduler;
    e["training.step_size"]           = std::to_string(options_.step_size);
    e["training.gamma"]               = exact(options_.gamma);
    e["training.t_max"]               = std::to_string(options_.t_max);
    e["training.training_loss"]       = options_.training_loss;
    e["training.gradient_clipping"]   = exact(options_.gradient_clipping);
    e["training.seed"]                = std::to_string(options_.seed);
    e["training.max_nonfinite_steps"] = std::to_string(options_.max_nonfinite_steps);
    e["training.checkpoint_every"]    = std::to_string(options_.checkpoint_every);
    write_file_atomically(staged / state_file, format_state(state));
    write_file_atomically(staged / history_file, format_history(history_));

    replace_directory(staged, directory);
  }

  void
  Trainer::load_checkpoint(const fs::path &directory)
  {
    if (!fs::is_directory(directory))
      throw std::runtime_error("checkpoint directory '" + directory.string() +
                               "' does not exist");
    for (const char *file : {state_file, model_file, optimizer_file, normalizer_file})
      require_file(directory, file);

    const CheckpointState state = read_state(directory / state_file);
    if (state.model_name != model_->model_name())
      throw std::runtime_error("checkpoint directory '" + directory.string() +
                               "' holds a model '" + state.model_name + "', not '" +
                               model_->model_name() + "'");
    if (state.model_config != model_->config_text() &&
        state.model_config != model_->config_text() + "\n")
      throw std::runtime_error("checkpoint directory '" + directory.string() +
                               "' was written for another configuration of '" +
                               state.model_name + "':\n" + state.model_config +
                               "this model has:\n" + model_->config_text());

    const fs::path state_path = directory / state_file;
    const auto     integer    = [&](const std::string &key) {
      const std::string &text = state_entry(state, key, state_path);
      try
        {
          return static_cast<int64_t>(std::stoll(text));
        }
      catch (const std::exception &)
        {
          throw std::runtime_error("'" + state_path.string() + "': entry '" + key +
                                   "' is not an integer: '" + text + "'");
        }
    };

    model_->set_precision(state.precision);
    load_module(*model_, directory / model_file);
    try
      {
        torch::serialize::InputArchive archive;
        archive.load_from((directory / optimizer_file).string());
        impl_->optimizer->load(archive);
      }
    catch (const std::exception &error)
      {
        throw std::runtime_error("cannot read the optimiser state from '" +
                                 (directory / optimizer_file).string() +
                                 "': " + error_text(error));
      }
    load_normalizers(impl_->input_normalizer,
                     impl_->output_normalizer,
                     state_entry(state, "encode_input", state_path) == "true",
                     state_entry(state, "encode_output", state_path) == "true",
                     directory / normalizer_file);

    epoch_                        = integer("epoch");
    global_step_                  = integer("global_step");
    total_skipped_steps_          = integer("skipped_steps");
    impl_->consecutive_nonfinite  = integer("consecutive_nonfinite_steps");
    history_ = fs::is_regular_file(directory / history_file) ?
                 read_history(directory / history_file) :
                 std::vector<EpochRecord>{};
    if (log_)
      *log_ << "Resumed from '" << directory.string() << "' after epoch " << epoch_
            << " (step " << global_step_ << "), precision: "
            << model_->precision().describe(impl_->device) << std::endl;
  }
} // namespace mpno
