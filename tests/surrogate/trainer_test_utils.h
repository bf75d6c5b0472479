#pragma once

// Shared by test_trainer.cc and test_checkpoint.cc: a small FNO (modes 4, hidden 8,
// 2 layers) on the first samples of the real Darcy 16^2 data, scratch directories, and
// models that produce non-finite values on purpose.
#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/trainer.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

namespace mpno_test
{
  namespace fs = std::filesystem;

  /** A fresh, empty directory under the system's temporary directory, removed on destruction. */
  struct ScratchDirectory
  {
    explicit ScratchDirectory(const std::string &name)
      : path(fs::temp_directory_path() / ("mpno_test_trainer_" + name + "_" + std::to_string(::getpid())))
    {
      fs::remove_all(path);
      fs::create_directories(path);
    }
    ~ScratchDirectory()
    {
      fs::remove_all(path);
    }
    fs::path path;
  };

  inline const mpno::TensorDataset &
  darcy_train()
  {
    static const mpno::TensorDataset data =
      mpno::load_pt_dataset(std::string(MPNO_DATA_DIR) + "/darcy_train_16.pt", "x", "y", 2, 64);
    return data;
  }

  inline std::vector<mpno::TestSet>
  darcy_test()
  {
    return {{"16", mpno::load_pt_dataset(std::string(MPNO_DATA_DIR) + "/darcy_test_16.pt", "x", "y", 2, 32)}};
  }

  inline mpno::FNOOptions
  small_fno()
  {
    mpno::FNOOptions options;
    options.n_modes         = {4, 4};
    options.hidden_channels = 8;
    options.n_layers        = 2;
    return options;
  }

  /** The small FNO, initialised from @p seed. */
  inline std::shared_ptr<mpno::NeuralOperator>
  make_model(uint64_t seed, const mpno::PrecisionPolicy &precision = {})
  {
    torch::manual_seed(seed);
    return mpno::make_neural_operator("fno", small_fno().to_text(), precision);
  }

  inline mpno::TrainerOptions
  small_training(int64_t epochs)
  {
    mpno::TrainerOptions options;
    options.epochs        = epochs;
    options.batch_size    = 16;
    options.learning_rate = 5e-3;
    options.scheduler     = "cosine";
    options.t_max         = 4;
    options.seed          = 3;
    return options;
  }

  /** Copies of all parameters, in registration order. */
  inline std::vector<torch::Tensor>
  snapshot(const torch::nn::Module &model)
  {
    std::vector<torch::Tensor> copies;
    for (const auto &p : model.parameters())
      copies.push_back(p.detach().clone());
    return copies;
  }

  inline void
  expect_identical(const std::vector<torch::Tensor> &a, const std::vector<torch::Tensor> &b)
  {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i << " differs";
  }

  /** Forwards everything to a wrapped FNO; subclasses change forward() or the gradients. */
  class WrappedOperator : public mpno::NeuralOperator
  {
  public:
    explicit WrappedOperator(std::shared_ptr<mpno::NeuralOperator> inner)
      : inner_(register_module("inner", std::move(inner)))
    {
    }

    torch::Tensor
    forward(torch::Tensor x) override
    {
      return inner_->forward(x);
    }
    void
    set_precision(const mpno::PrecisionPolicy &precision) override
    {
      inner_->set_precision(precision);
    }
    const mpno::PrecisionPolicy &
    precision() const override
    {
      return inner_->precision();
    }
    std::string
    model_name() const override
    {
      return "wrapped";
    }
    std::string
    config_text() const override
    {
      return inner_->config_text();
    }

  protected:
    std::shared_ptr<mpno::NeuralOperator> inner_;
  };

  /**
   * Poisons the output with NaN while the spectral precision is below `full` (or
   * always, with @p always), as a reduced-precision overflow would: a non-finite loss.
   */
  class PoisonedOperator : public WrappedOperator
  {
  public:
    PoisonedOperator(std::shared_ptr<mpno::NeuralOperator> inner, bool always)
      : WrappedOperator(std::move(inner))
      , always_(always)
    {
    }

    torch::Tensor
    forward(torch::Tensor x) override
    {
      torch::Tensor out = inner_->forward(x);
      if (always_ || inner_->precision().spectral_precision != mpno::SpectralPrecision::full)
        out = out * std::numeric_limits<float>::quiet_NaN();
      return out;
    }

  private:
    bool always_;
  };

  /**
   * A finite output and loss, but a NaN gradient for the first parameter while
   * `poison` is set (a hook replaces it), as an overflow in a reduced-precision
   * backward pass would give.
   */
  class NaNGradientOperator : public WrappedOperator
  {
  public:
    explicit NaNGradientOperator(std::shared_ptr<mpno::NeuralOperator> inner)
      : WrappedOperator(std::move(inner))
    {
      inner_->parameters().front().register_hook(
        [this](const torch::Tensor &grad) { return poison ? grad * std::numeric_limits<float>::quiet_NaN() : grad; });
    }

    bool poison = true;
  };

  class TrainerTest : public ::testing::Test
  {
  protected:
    void
    SetUp() override
    {
      torch::set_num_threads(1);
    }
  };
} // namespace mpno_test
