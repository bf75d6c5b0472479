// Trainer (trainer.h): checkpoint round trip, bit-identical resume, non-finite steps,
// learning-rate schedules, errors. A small FNO (modes 4, hidden 8, 2 layers) on the
// first samples of the real Darcy 16^2 data, 1 thread, fixed seeds.
#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/trainer.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace
{
  /** A fresh, empty directory under the system's temporary directory, removed on destruction. */
  struct ScratchDirectory
  {
    explicit ScratchDirectory(const std::string &name)
      : path(fs::temp_directory_path() /
             ("mpno_test_trainer_" + name + "_" + std::to_string(::getpid())))
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

  const mpno::TensorDataset &
  darcy_train()
  {
    static const mpno::TensorDataset data =
      mpno::load_pt_dataset(std::string(MPNO_DATA_DIR) + "/darcy_train_16.pt", "x", "y", 2, 64);
    return data;
  }

  std::vector<mpno::TestSet>
  darcy_test()
  {
    return {{"16",
             mpno::load_pt_dataset(std::string(MPNO_DATA_DIR) + "/darcy_test_16.pt", "x", "y", 2,
                                   32)}};
  }

  mpno::FNOOptions
  small_fno()
  {
    mpno::FNOOptions options;
    options.n_modes         = {4, 4};
    options.hidden_channels = 8;
    options.n_layers        = 2;
    return options;
  }

  /** The small FNO, initialised from @p seed. */
  std::shared_ptr<mpno::NeuralOperator>
  make_model(uint64_t seed, const mpno::PrecisionPolicy &precision = {})
  {
    torch::manual_seed(seed);
    return mpno::make_neural_operator("fno", small_fno().to_text(), precision);
  }

  mpno::TrainerOptions
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
  std::vector<torch::Tensor>
  snapshot(const torch::nn::Module &model)
  {
    std::vector<torch::Tensor> copies;
    for (const auto &p : model.parameters())
      copies.push_back(p.detach().clone());
    return copies;
  }

  void
  expect_identical(const std::vector<torch::Tensor> &a, const std::vector<torch::Tensor> &b)
  {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i << " differs";
  }

  /**
   * Wraps an FNO and poisons its output with NaN while the spectral precision is
   * below `full` (or always, with @p always), as a reduced-precision overflow would.
   */
  class PoisonedOperator : public mpno::NeuralOperator
  {
  public:
    PoisonedOperator(std::shared_ptr<mpno::NeuralOperator> inner, bool always)
      : inner_(register_module("inner", std::move(inner)))
      , always_(always)
    {}

    torch::Tensor
    forward(torch::Tensor x) override
    {
      torch::Tensor out = inner_->forward(x);
      if (always_ || inner_->precision().spectral_precision != mpno::SpectralPrecision::full)
        out = out * std::numeric_limits<float>::quiet_NaN();
      return out;
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
      return "poisoned";
    }
    std::string
    config_text() const override
    {
      return inner_->config_text();
    }

  private:
    std::shared_ptr<mpno::NeuralOperator> inner_;
    bool                                  always_;
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
} // namespace

TEST_F(TrainerTest, SaveThenLoadModelGivesIdenticalPredictions)
{
  // Two epochs with a checkpoint after each: the second replaces the first.
  ScratchDirectory out("save_load");
  mpno::Trainer    trainer(make_model(1), small_training(2), out.path);
  trainer.set_normalizers(/*encode_input=*/true, /*encode_output=*/true);
  trainer.train(darcy_train(), darcy_test());

  const fs::path checkpoint = out.path / "checkpoint";
  for (const char *file : {"model.pt", "optimizer.pt", "normalizers.pt", "state.txt", "history.csv"})
    EXPECT_TRUE(fs::is_regular_file(checkpoint / file)) << file;
  EXPECT_FALSE(fs::exists(out.path / "checkpoint.tmp"));
  EXPECT_FALSE(fs::exists(out.path / "checkpoint.old"));
  {
    mpno::Trainer reader(make_model(1), small_training(2), "");
    reader.load_checkpoint(checkpoint);
    EXPECT_EQ(reader.epoch(), 2);
    EXPECT_EQ(reader.history().size(), 2u);
  }

  const mpno::LoadedModel loaded = mpno::load_model(checkpoint);
  ASSERT_TRUE(loaded.input_normalizer.has_value());
  ASSERT_TRUE(loaded.output_normalizer.has_value());
  EXPECT_EQ(loaded.model->model_name(), "fno");
  EXPECT_EQ(loaded.model->config_text(), trainer.model()->config_text());

  const torch::Tensor x        = darcy_test().front().data.x;
  const torch::Tensor expected = trainer.predict(x);
  const torch::Tensor actual   = loaded.predict(x);
  EXPECT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::equal(actual, expected));
  // The normalisers were fitted on the training data and saved with the model.
  EXPECT_NEAR(loaded.output_normalizer->mean().item<double>(), darcy_train().y.mean().item<double>(),
              1e-6 * darcy_train().y.abs().max().item<double>());
  EXPECT_NEAR(loaded.input_normalizer->mean().item<double>(), darcy_train().x.mean().item<double>(),
              1e-6);

  // history.csv: header and one row per epoch.
  std::ifstream history(out.path / "history.csv");
  std::string   header, row1, row2, extra;
  std::getline(history, header);
  std::getline(history, row1);
  std::getline(history, row2);
  EXPECT_EQ(header,
            "epoch,learning_rate,train_loss,16_l2,16_h1,seconds,samples_per_second,"
            "skipped_steps,precision");
  EXPECT_EQ(row1.substr(0, 2), "1,");
  EXPECT_EQ(row2.substr(0, 2), "2,");
  EXPECT_EQ(row2.substr(row2.size() - 7), ",0,full");
  EXPECT_FALSE(std::getline(history, extra) && !extra.empty());
}

TEST_F(TrainerTest, ResumedTrainingIsBitIdenticalToUninterrupted)
{
  mpno::PrecisionPolicy mixed;
  mixed.spectral_precision = mpno::SpectralPrecision::mixed;
  mixed.stabilizer         = mpno::Stabilizer::tanh;
  mixed.autocast           = true;

  ScratchDirectory uninterrupted_dir("uninterrupted");
  mpno::Trainer    uninterrupted(make_model(11, mixed), small_training(4), uninterrupted_dir.path);
  const auto       initial = snapshot(*uninterrupted.model());
  uninterrupted.set_normalizers(true, true);
  uninterrupted.train(darcy_train(), darcy_test());
  // Every parameter was updated, the spectral weights included.
  const auto trained = snapshot(*uninterrupted.model());
  for (std::size_t i = 0; i < initial.size(); ++i)
    EXPECT_FALSE(torch::equal(initial[i], trained[i])) << "parameter " << i << " unchanged";

  ScratchDirectory first_dir("first_half");
  {
    mpno::Trainer first(make_model(11, mixed), small_training(2), first_dir.path);
    first.set_normalizers(true, true);
    first.train(darcy_train(), darcy_test());
  }
  // A differently initialised model in full precision: everything must come from the checkpoint.
  ScratchDirectory second_dir("second_half");
  mpno::Trainer    resumed(make_model(99), small_training(4), second_dir.path);
  resumed.set_normalizers(false, false);
  resumed.load_checkpoint(first_dir.path / "checkpoint");
  EXPECT_EQ(resumed.epoch(), 2);
  EXPECT_EQ(resumed.model()->precision().spectral_precision, mpno::SpectralPrecision::mixed);
  EXPECT_TRUE(resumed.model()->precision().autocast);
  const auto new_records = resumed.train(darcy_train(), darcy_test());
  EXPECT_EQ(new_records.size(), 2u);

  EXPECT_EQ(resumed.epoch(), 4);
  EXPECT_EQ(resumed.global_step(), uninterrupted.global_step());
  EXPECT_EQ(resumed.global_step(), 4 * 4);
  expect_identical(snapshot(*resumed.model()), snapshot(*uninterrupted.model()));

  const auto &a = uninterrupted.history();
  const auto &b = resumed.history();
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (std::size_t e = 0; e < a.size(); ++e)
    {
      EXPECT_EQ(a[e].epoch, b[e].epoch);
      EXPECT_EQ(a[e].learning_rate, b[e].learning_rate);
      EXPECT_EQ(a[e].train_loss, b[e].train_loss) << "epoch " << e + 1;
      EXPECT_EQ(a[e].test_errors.at("16").l2, b[e].test_errors.at("16").l2);
      EXPECT_EQ(a[e].test_errors.at("16").h1, b[e].test_errors.at("16").h1);
      EXPECT_EQ(a[e].skipped_steps, b[e].skipped_steps);
      EXPECT_EQ(a[e].precision, b[e].precision);
    }
  // Training did something: the test error went down from the first epoch.
  EXPECT_LT(a.back().test_errors.at("16").l2, a.front().test_errors.at("16").l2);
}

TEST_F(TrainerTest, NonFiniteStepsAreSkippedCountedAndRaisePrecision)
{
  mpno::PrecisionPolicy mixed;
  mixed.spectral_precision = mpno::SpectralPrecision::mixed;
  auto model = std::make_shared<PoisonedOperator>(make_model(5, mixed), /*always=*/false);
  const auto initial = snapshot(*model);

  mpno::TrainerOptions options = small_training(1);
  options.batch_size           = 32; // 64 samples: 2 steps per epoch
  options.max_nonfinite_steps  = 2;
  std::ostringstream log;
  mpno::Trainer      trainer(model, options, "", &log);
  trainer.set_normalizers(true, true);

  // Epoch 1: both steps give NaN in mixed precision, are skipped, and the precision is
  // raised to full after the second.
  const auto first = trainer.train(darcy_train(), darcy_test());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].skipped_steps, 2);
  EXPECT_EQ(trainer.skipped_steps(), 2);
  EXPECT_TRUE(std::isnan(first[0].train_loss));
  EXPECT_EQ(first[0].precision, "full");
  EXPECT_EQ(model->precision().spectral_precision, mpno::SpectralPrecision::full);
  expect_identical(snapshot(*model), initial);
  EXPECT_NE(log.str().find("non-finite loss"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("precision raised"), std::string::npos) << log.str();

  // Epoch 2 in full precision trains normally.
  mpno::TrainerOptions more = options;
  more.epochs               = 2;
  mpno::Trainer continued(model, more, "");
  continued.set_normalizers(true, true);
  const auto second = continued.train(darcy_train(), darcy_test());
  ASSERT_EQ(second.size(), 2u); // a new trainer starts at epoch 0
  EXPECT_EQ(second[0].skipped_steps, 0);
  EXPECT_TRUE(std::isfinite(second[0].train_loss));
  EXPECT_FALSE(torch::equal(model->parameters()[0], initial[0]));
}

TEST_F(TrainerTest, NonFiniteInFullPrecisionStopsTraining)
{
  auto model   = std::make_shared<PoisonedOperator>(make_model(5), /*always=*/true);
  auto options = small_training(1);
  options.max_nonfinite_steps = 1;
  mpno::Trainer trainer(model, options, "");
  try
    {
      trainer.train(darcy_train(), darcy_test());
      FAIL() << "expected std::runtime_error";
    }
  catch (const std::runtime_error &error)
    {
      EXPECT_NE(std::string(error.what()).find("non-finite"), std::string::npos) << error.what();
    }
  EXPECT_EQ(trainer.skipped_steps(), 1);
}

TEST_F(TrainerTest, SchedulesFollowTheClosedForms)
{
  mpno::TrainerOptions options;
  options.learning_rate = 1.;
  options.scheduler     = "step";
  options.step_size     = 2;
  options.gamma         = 0.5;
  const double step_expected[] = {1., 1., 0.5, 0.5, 0.25};
  for (int e = 0; e < 5; ++e)
    EXPECT_DOUBLE_EQ(mpno::scheduled_learning_rate(options, e), step_expected[e]) << e;

  options.scheduler = "cosine";
  options.t_max     = 4;
  const double cosine_expected[] = {1., 0.5 + 0.25 * std::sqrt(2.), 0.5, 0.5 - 0.25 * std::sqrt(2.), 0.};
  for (int e = 0; e < 5; ++e)
    EXPECT_NEAR(mpno::scheduled_learning_rate(options, e), cosine_expected[e], 1e-15) << e;

  options.scheduler = "none";
  EXPECT_EQ(mpno::scheduled_learning_rate(options, 7), 1.);

  // The trainer uses them: one epoch per learning rate in history.
  auto training          = small_training(3);
  training.scheduler     = "step";
  training.step_size     = 1;
  training.gamma         = 0.1;
  training.learning_rate = 1e-3;
  mpno::Trainer trainer(make_model(2), training, "");
  const auto    records = trainer.train(darcy_train().head(16), {});
  ASSERT_EQ(records.size(), 3u);
  EXPECT_DOUBLE_EQ(records[0].learning_rate, 1e-3);
  EXPECT_DOUBLE_EQ(records[1].learning_rate, 1e-4);
  EXPECT_DOUBLE_EQ(records[2].learning_rate, 1e-5);
}

TEST_F(TrainerTest, BadOptionsAndDataAreRejected)
{
  auto options      = small_training(1);
  options.scheduler = "linear";
  EXPECT_THROW(mpno::Trainer(make_model(1), options, ""), std::invalid_argument);

  // Two input channels for a model with one.
  mpno::TensorDataset two_channels = darcy_train().head(4);
  two_channels.x                   = torch::cat({two_channels.x, two_channels.x}, 1);
  mpno::Trainer trainer(make_model(1), small_training(1), "");
  try
    {
      trainer.train(two_channels, {});
      FAIL() << "expected std::invalid_argument";
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("training data"), std::string::npos) << error.what();
    }
}

TEST_F(TrainerTest, MissingCheckpointIsNamed)
{
  const fs::path missing = fs::temp_directory_path() / "mpno_no_such_checkpoint";
  try
    {
      mpno::load_model(missing);
      FAIL() << "expected std::runtime_error";
    }
  catch (const std::runtime_error &error)
    {
      EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos)
        << error.what();
    }

  // A checkpoint without model.pt names the file.
  ScratchDirectory out("incomplete");
  mpno::Trainer    trainer(make_model(1), small_training(1), out.path);
  trainer.train(darcy_train().head(16), {});
  fs::remove(out.path / "checkpoint" / "model.pt");
  try
    {
      mpno::load_model(out.path / "checkpoint");
      FAIL() << "expected std::runtime_error";
    }
  catch (const std::runtime_error &error)
    {
      EXPECT_NE(std::string(error.what()).find("model.pt"), std::string::npos) << error.what();
    }
  mpno::Trainer other(make_model(1), small_training(1), "");
  EXPECT_THROW(other.load_checkpoint(out.path / "checkpoint"), std::runtime_error);
}
