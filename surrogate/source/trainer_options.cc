#include <mpno/surrogate/trainer.h>

#include <torch/cuda.h>

#include "checkpoint_io.h"

#include <cmath>
#include <stdexcept>

namespace mpno
{
  using checkpoint_io::exact;

  void
  TrainerOptions::validate() const
  {
    const auto fail = [](const std::string &what) { throw std::invalid_argument("Training options: " + what); };
    if (epochs < 0)
      fail("epochs must be >= 0, got " + std::to_string(epochs));
    if (batch_size < 1)
      fail("batch size must be >= 1, got " + std::to_string(batch_size));
    if (!(learning_rate > 0.))
      fail("learning rate must be > 0, got " + exact(learning_rate));
    if (!(weight_decay >= 0.))
      fail("weight decay must be >= 0, got " + exact(weight_decay));
    if (optimizer != "adamw" && optimizer != "adam")
      fail("optimizer must be adamw or adam, got '" + optimizer + "'");
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
    if (device.is_cuda() && !torch::cuda::is_available())
      fail("device " + device.str() + " requested, but CUDA is not available to LibTorch");
  }

  std::map<std::string, std::string>
  TrainerOptions::to_entries() const
  {
    return {{"epochs", std::to_string(epochs)},
            {"batch_size", std::to_string(batch_size)},
            {"learning_rate", exact(learning_rate)},
            {"weight_decay", exact(weight_decay)},
            {"optimizer", optimizer},
            {"scheduler", scheduler},
            {"step_size", std::to_string(step_size)},
            {"gamma", exact(gamma)},
            {"t_max", std::to_string(t_max)},
            {"training_loss", training_loss},
            {"gradient_clipping", exact(gradient_clipping)},
            {"seed", std::to_string(seed)},
            {"max_nonfinite_steps", std::to_string(max_nonfinite_steps)},
            {"checkpoint_every", std::to_string(checkpoint_every)}};
  }

  double
  scheduled_learning_rate(const TrainerOptions &options, int64_t epoch_index)
  {
    if (options.scheduler == "step")
      return options.learning_rate * std::pow(options.gamma, static_cast<double>(epoch_index / options.step_size));
    if (options.scheduler == "cosine")
      return options.learning_rate * 0.5 *
             (1. + std::cos(M_PI * static_cast<double>(epoch_index) / static_cast<double>(options.t_max)));
    return options.learning_rate;
  }

  std::string
  precision_label(const PrecisionPolicy &policy)
  {
    return to_string(policy.spectral_precision) + (policy.autocast ? "+autocast" : "");
  }
} // namespace mpno
