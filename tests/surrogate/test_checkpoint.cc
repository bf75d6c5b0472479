// Trainer checkpoints (trainer.h): save -> load round trip, bit-identical resume,
// interrupted saves, state.txt validation, the resume warning, errors. A small FNO
// (modes 4, hidden 8, 2 layers) on the first samples of the real Darcy 16^2 data.
#include "trainer_test_utils.h"

#include <fstream>
#include <sstream>

using namespace mpno_test;

namespace
{
  std::string
  read_text(const fs::path &file)
  {
    std::ifstream      in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void
  write_text(const fs::path &file, const std::string &text)
  {
    std::ofstream(file, std::ios::trunc) << text;
  }

  /** The message of the std::runtime_error that load_model(@p checkpoint) throws. */
  std::string
  load_error(const fs::path &checkpoint)
  {
    try
      {
        mpno::load_model(checkpoint);
      }
    catch (const std::runtime_error &error)
      {
        return error.what();
      }
    return "";
  }
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
  EXPECT_NEAR(loaded.output_normalizer->mean().item<double>(),
              darcy_train().y.mean().item<double>(),
              1e-6 * darcy_train().y.abs().max().item<double>());
  EXPECT_NEAR(loaded.input_normalizer->mean().item<double>(), darcy_train().x.mean().item<double>(), 1e-6);

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
  // Trainer::resume() rebuilds the model from the checkpoint alone and continues alike.
  ScratchDirectory third_dir("resumed_from_checkpoint_alone");
  mpno::Trainer    continued = mpno::Trainer::resume(first_dir.path / "checkpoint", small_training(4), third_dir.path);
  EXPECT_EQ(continued.epoch(), 2);
  EXPECT_EQ(continued.model()->precision().spectral_precision, mpno::SpectralPrecision::mixed);
  continued.train(darcy_train(), darcy_test());
  expect_identical(snapshot(*continued.model()), snapshot(*uninterrupted.model()));
  EXPECT_EQ(continued.history().back().train_loss, a.back().train_loss);

  // Training did something: the test error went down from the first epoch.
  EXPECT_LT(a.back().test_errors.at("16").l2, a.front().test_errors.at("16").l2);
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
      EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos) << error.what();
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

TEST_F(TrainerTest, InterruptedSaveLeavesThePreviousCheckpointLoadable)
{
  ScratchDirectory out("interrupted");
  const fs::path   checkpoint = out.path / "checkpoint";
  mpno::Trainer    trainer(make_model(1), small_training(1), out.path);
  trainer.set_normalizers(true, true);
  trainer.train(darcy_train().head(32), darcy_test());
  const torch::Tensor x        = darcy_test().front().data.x;
  const torch::Tensor expected = trainer.predict(x);

  // A save interrupted while writing: a partial checkpoint.tmp beside the intact one.
  fs::create_directories(out.path / "checkpoint.tmp");
  write_text(out.path / "checkpoint.tmp" / "model.pt", "partial");
  const mpno::LoadedModel loaded = mpno::load_model(checkpoint);
  EXPECT_EQ(loaded.epoch, 1);
  EXPECT_TRUE(torch::equal(loaded.predict(x), expected));

  // A later save discards the partial directory and succeeds.
  {
    mpno::Trainer continued = mpno::Trainer::resume(checkpoint, small_training(2), out.path);
    continued.train(darcy_train().head(32), darcy_test());
  }
  EXPECT_FALSE(fs::exists(out.path / "checkpoint.tmp"));
  EXPECT_FALSE(fs::exists(out.path / "checkpoint.old"));
  EXPECT_EQ(mpno::load_model(checkpoint).epoch, 2);

  // The non-atomic replacement interrupted between its two renames: only
  // checkpoint.old is there. Both readers fall back to it and say so.
  fs::rename(checkpoint, out.path / "checkpoint.old");
  std::ostringstream log;
  EXPECT_EQ(mpno::load_model(checkpoint, torch::kCPU, &log).epoch, 2);
  EXPECT_NE(log.str().find("checkpoint.old"), std::string::npos) << log.str();
  mpno::Trainer reader(make_model(1), small_training(3), out.path, &log);
  reader.load_checkpoint(checkpoint);
  EXPECT_EQ(reader.epoch(), 2);
  // Its next save puts checkpoint/ back and removes the stale checkpoint.old.
  reader.train(darcy_train().head(32), darcy_test());
  EXPECT_TRUE(fs::is_directory(checkpoint));
  EXPECT_FALSE(fs::exists(out.path / "checkpoint.old"));
  EXPECT_EQ(mpno::load_model(checkpoint).epoch, 3);
}

TEST_F(TrainerTest, StateWithUnknownFormatOrBadBooleanIsRejected)
{
  ScratchDirectory out("bad_state");
  mpno::Trainer    trainer(make_model(1), small_training(1), out.path);
  trainer.train(darcy_train().head(16), {});
  const fs::path    state_file = out.path / "checkpoint" / "state.txt";
  const std::string state      = read_text(state_file);
  ASSERT_NE(state.find("format = 1\n"), std::string::npos) << state;
  ASSERT_NE(state.find("precision.autocast = false\n"), std::string::npos) << state;
  ASSERT_NE(state.find("encode_output = false\n"), std::string::npos) << state;
  ASSERT_EQ(load_error(out.path / "checkpoint"), "");

  const std::vector<std::pair<std::string, std::string>> corruptions = {
    {"format = 1\n", "format = 2\n"},
    {"precision.autocast = false\n", "precision.autocast = yes\n"},
    {"encode_output = false\n", "encode_output = 0\n"}};
  for (const auto &[good, bad] : corruptions)
    {
      std::string corrupted = state;
      corrupted.replace(corrupted.find(good), good.size(), bad);
      write_text(state_file, corrupted);
      const std::string message = load_error(out.path / "checkpoint");
      EXPECT_NE(message.find(state_file.string()), std::string::npos) << message;
      const std::string key = bad.substr(0, bad.find(' '));
      EXPECT_NE(message.find(key == "format" ? "unknown format '2'" :
                                               "'" + key +
                                                 "' must be "
                                                 "true or false"),
                std::string::npos)
        << message;
      mpno::Trainer other(make_model(1), small_training(1), "");
      EXPECT_THROW(other.load_checkpoint(out.path / "checkpoint"), std::runtime_error) << bad;
    }
}

TEST_F(TrainerTest, ResumeLogsTheTrainingOptionsThatDiffer)
{
  ScratchDirectory out("resume_options");
  {
    mpno::Trainer trainer(make_model(1), small_training(1), out.path);
    trainer.train(darcy_train().head(32), {});
  }
  // Only the epoch count differs: no warning.
  std::ostringstream same;
  mpno::Trainer::resume(out.path / "checkpoint", small_training(5), "", &same);
  EXPECT_NE(same.str().find("Resumed from"), std::string::npos) << same.str();
  EXPECT_EQ(same.str().find("differ"), std::string::npos) << same.str();

  auto changed          = small_training(5);
  changed.batch_size    = 8;
  changed.learning_rate = 1e-3;
  std::ostringstream log;
  mpno::Trainer::resume(out.path / "checkpoint", changed, "", &log);
  EXPECT_NE(log.str().find("Training options differ from the checkpoint's"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("batch_size: checkpoint 16, now 8"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("learning_rate: checkpoint 0.005"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find("epochs:"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find("seed:"), std::string::npos) << log.str();
}
