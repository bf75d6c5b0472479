// Trainer (trainer.h): non-finite steps, learning-rate schedules, evaluation on several
// test sets, errors, and CPU vs CUDA. A small FNO (modes 4, hidden 8, 2 layers) on the
// first samples of the real Darcy 16^2 data, 1 thread, fixed seeds.
#include <mpno/surrogate/losses.h>

#include "trainer_test_utils.h"

#include <torch/cuda.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

using namespace mpno_test;

TEST_F(TrainerTest, NonFiniteStepsAreSkippedCountedAndRaisePrecision)
{
  mpno::PrecisionPolicy mixed;
  mixed.spectral_precision = mpno::SpectralPrecision::mixed;
  auto       model         = std::make_shared<PoisonedOperator>(make_model(5, mixed), /*always=*/false);
  const auto initial       = snapshot(*model);

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
  auto model                  = std::make_shared<PoisonedOperator>(make_model(5), /*always=*/true);
  auto options                = small_training(1);
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

TEST_F(TrainerTest, FiniteLossWithNonFiniteGradientIsSkippedToo)
{
  auto       model   = std::make_shared<NaNGradientOperator>(make_model(5));
  const auto initial = snapshot(*model);

  mpno::TrainerOptions options = small_training(1);
  options.batch_size           = 32; // 64 samples: 2 steps per epoch
  options.max_nonfinite_steps  = 3;  // no precision change within the epoch
  std::ostringstream log;
  mpno::Trainer      trainer(model, options, "", &log);
  trainer.set_normalizers(true, true);

  const auto records = trainer.train(darcy_train(), darcy_test());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].skipped_steps, 2);
  EXPECT_EQ(trainer.skipped_steps(), 2);
  EXPECT_EQ(trainer.global_step(), 2);
  EXPECT_TRUE(std::isnan(records[0].train_loss)); // no step was trained on
  EXPECT_EQ(records[0].precision, "full");
  expect_identical(snapshot(*model), initial);
  // The loss was finite (about 1 per sample, summed over 32): the log names the gradient norm.
  EXPECT_NE(log.str().find("non-finite gradient norm (loss 3"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("gradient norm nan), step skipped"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find("non-finite loss"), std::string::npos) << log.str();

  // The same with gradient clipping, whose norm is non-finite as well.
  auto clipped_model        = std::make_shared<NaNGradientOperator>(make_model(5));
  options.gradient_clipping = 1.;
  mpno::Trainer clipped(clipped_model, options, "");
  EXPECT_EQ(clipped.train(darcy_train(), darcy_test())[0].skipped_steps, 2);
  expect_identical(snapshot(*clipped_model), initial);

  // Without the NaN gradient the same model trains.
  model->poison             = false;
  options.epochs            = 2;
  options.gradient_clipping = 0.;
  mpno::Trainer healthy(model, options, "");
  const auto    trained = healthy.train(darcy_train(), darcy_test());
  EXPECT_EQ(trained[0].skipped_steps, 0);
  EXPECT_TRUE(std::isfinite(trained[0].train_loss));
  EXPECT_FALSE(torch::equal(model->parameters()[0], initial[0]));
}

TEST_F(TrainerTest, SchedulesFollowTheClosedForms)
{
  mpno::TrainerOptions options;
  options.learning_rate        = 1.;
  options.scheduler            = "step";
  options.step_size            = 2;
  options.gamma                = 0.5;
  const double step_expected[] = {1., 1., 0.5, 0.5, 0.25};
  for (int e = 0; e < 5; ++e)
    EXPECT_DOUBLE_EQ(mpno::scheduled_learning_rate(options, e), step_expected[e]) << e;

  options.scheduler              = "cosine";
  options.t_max                  = 4;
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

// The first Adam step moves each weight by lr * m_hat / sqrt(v_hat) = lr * sign of its
// gradient (up to eps). With lr * weight_decay = 1: AdamW (decoupled) first scales w by
// 1 - lr * wd = 0, so |w1| <= lr; Adam adds wd * w0 to the gradient, which dominates
// wherever wd |w0| >> |g|, so w1 = w0 - lr sign(w0) there. A checkpoint of one resumes
// only with the same optimizer.
TEST_F(TrainerTest, AdamAddsTheWeightDecayToTheGradientAdamWDecouplesIt)
{
  auto options          = small_training(1);
  options.scheduler     = "none";
  options.learning_rate = 1e-4;
  options.weight_decay  = 1e4;
  const auto data       = darcy_train().head(16); // one step: batch size 16

  mpno::Trainer adamw(make_model(5), options, "");
  const auto    initial = snapshot(*adamw.model());
  adamw.train(data, {});
  for (const torch::Tensor &w : snapshot(*adamw.model()))
    EXPECT_LE(w.abs().max().item<double>(), 1e-4 * (1 + 1e-6));

  options.optimizer = "adam";
  ScratchDirectory adam_dir("adam");
  mpno::Trainer    adam(make_model(5), options, adam_dir.path);
  adam.train(data, {});
  const auto trained = snapshot(*adam.model());
  int64_t    checked = 0;
  for (std::size_t i = 0; i < initial.size(); ++i)
    {
      const torch::Tensor large = initial[i].abs() > 0.02; // wd |w0| > 200 >> |g|
      const torch::Tensor expected = initial[i] - 1e-4 * initial[i].sign();
      checked += large.sum().item<int64_t>();
      EXPECT_TRUE(torch::allclose(trained[i].masked_select(large), expected.masked_select(large), 0., 1e-7))
        << "parameter " << i;
    }
  EXPECT_GT(checked, 100);

  options.optimizer = "adamw";
  mpno::Trainer resumed(make_model(5), options, "");
  try
    {
      resumed.load_checkpoint(adam_dir.path / "checkpoint");
      FAIL() << "expected std::runtime_error";
    }
  catch (const std::runtime_error &error)
    {
      EXPECT_NE(std::string(error.what()).find("trained with the optimizer adam, this run uses adamw"),
                std::string::npos)
        << error.what();
    }
  options.optimizer = "sgd";
  EXPECT_THROW(mpno::Trainer(make_model(5), options, ""), std::invalid_argument);
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

TEST_F(TrainerTest, APrecisionTheDeviceCannotRunIsReportedUnchanged)
{
  mpno::PrecisionPolicy float16;
  float16.spectral_precision = mpno::SpectralPrecision::mixed;
  float16.reduced_type       = mpno::ReducedType::float16;
  std::string expected;
  try
    {
      float16.check_supported(torch::kCPU, {16, 16});
    }
  catch (const std::invalid_argument &error)
    {
      expected = error.what();
    }
  ASSERT_FALSE(expected.empty()) << "float16 contractions are expected to be refused on CPU";

  mpno::Trainer trainer(make_model(1, float16), small_training(1), "");
  try
    {
      trainer.train(darcy_train().head(16), darcy_test());
      FAIL() << "expected std::invalid_argument";
    }
  catch (const std::invalid_argument &error)
    {
      // Not "the training data does not fit the model: ...".
      EXPECT_EQ(std::string(error.what()), expected);
    }
}

TEST_F(TrainerTest, ZeroShotTestSetAt32IsEvaluatedAndRecordedUnderItsName)
{
  // The 16^2 test samples repeated 2x2 (nearest-neighbour upsampling) as a 32^2 test set.
  const mpno::TensorDataset at16     = darcy_test().front().data;
  const auto                upsample = [](const torch::Tensor &t) {
    return t.repeat_interleave(2, 2).repeat_interleave(2, 3).contiguous();
  };
  const std::vector<mpno::TestSet> test_sets = {{"16", at16}, {"32", {upsample(at16.x), upsample(at16.y)}}};
  ASSERT_EQ(test_sets[1].data.grid_shape(), (std::vector<int64_t>{32, 32}));

  ScratchDirectory out("zero_shot");
  mpno::Trainer    trainer(make_model(4), small_training(2), out.path);
  trainer.set_normalizers(true, true);
  const auto records = trainer.train(darcy_train(), test_sets);
  ASSERT_EQ(records.size(), 2u);

  // The recorded 32^2 errors are those of the model's own 32^2 predictions.
  const mpno::TestErrors recorded   = records.back().test_errors.at("32");
  const torch::Tensor    prediction = trainer.predict(test_sets[1].data.x);
  EXPECT_EQ(prediction.sizes(), test_sets[1].data.y.sizes());
  const auto n = static_cast<double>(at16.size());
  EXPECT_NEAR(recorded.l2, mpno::LpLoss(2)(prediction, test_sets[1].data.y).item<double>() / n, 1e-6);
  EXPECT_NEAR(recorded.h1, mpno::H1Loss(2)(prediction, test_sets[1].data.y).item<double>() / n, 1e-6);
  EXPECT_GT(recorded.l2, 0.);
  EXPECT_LT(recorded.l2, 1.);

  // history.csv has both sets, each under its name, and reads back exactly.
  std::ifstream history(out.path / "history.csv");
  std::string   header, first;
  std::getline(history, header);
  std::getline(history, first);
  EXPECT_EQ(header,
            "epoch,learning_rate,train_loss,16_l2,16_h1,32_l2,32_h1,seconds,samples_per_second,"
            "skipped_steps,precision");
  mpno::Trainer reader(make_model(4), small_training(2), "");
  reader.load_checkpoint(out.path / "checkpoint");
  ASSERT_EQ(reader.history().size(), 2u);
  EXPECT_EQ(reader.history().back().test_errors.at("32").l2, recorded.l2);
  EXPECT_EQ(reader.history().back().test_errors.at("32").h1, recorded.h1);
  EXPECT_EQ(reader.history().front().test_errors.at("32").l2, records.front().test_errors.at("32").l2);
}

TEST_F(TrainerTest, OneEpochOnCudaMatchesCpu)
{
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "CUDA is not available to LibTorch";

  std::map<std::string, mpno::EpochRecord> records;
  std::map<std::string, torch::Tensor>     predictions;
  const torch::Tensor                      x = darcy_test().front().data.x;
  for (const torch::Device device : {torch::Device(torch::kCPU), torch::Device(torch::kCUDA)})
    {
      auto options   = small_training(1);
      options.device = device;
      mpno::Trainer trainer(make_model(7), options, "");
      trainer.set_normalizers(true, true);
      EXPECT_EQ(trainer.model()->parameters().front().device().type(), device.type());
      records[device.str()]     = trainer.train(darcy_train(), darcy_test()).front();
      predictions[device.str()] = trainer.predict(x); // on the CPU, where x is
      EXPECT_TRUE(predictions[device.str()].device().is_cpu());
    }
  const auto &cpu = records.at("cpu");
  const auto &gpu = records.at("cuda");
  EXPECT_EQ(gpu.skipped_steps, 0);
  // Same initialisation, same batches; cuFFT and cuBLAS sum in another order, and 4
  // AdamW steps amplify that only slightly (a batch or a normaliser left on the wrong
  // device, or another shuffling, would change the figures by far more).
  EXPECT_NEAR(gpu.train_loss, cpu.train_loss, 5e-3 * cpu.train_loss);
  EXPECT_NEAR(gpu.test_errors.at("16").l2, cpu.test_errors.at("16").l2, 1e-2 * cpu.test_errors.at("16").l2);
  EXPECT_NEAR(gpu.test_errors.at("16").h1, cpu.test_errors.at("16").h1, 1e-2 * cpu.test_errors.at("16").h1);
  EXPECT_LT((predictions.at("cuda") - predictions.at("cpu")).abs().max().item<double>(),
            1e-2 * predictions.at("cpu").abs().max().item<double>());
}
