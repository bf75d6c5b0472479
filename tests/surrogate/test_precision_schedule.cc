// PrecisionSchedule (precision_schedule.h) and its use by the Trainer: parsing and its
// errors, the phase of each epoch at the boundaries, switching during training, the
// interplay with the raised precision, and bit-identical resume across a switch.
#include <mpno/surrogate/precision_schedule.h>

#include "trainer_test_utils.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

using namespace mpno_test;
using mpno::PrecisionSchedule;
using mpno::SpectralPrecision;

namespace
{
  /** The message of the std::invalid_argument that parse(@p text) throws, or "". */
  std::string
  parse_error(const std::string &text)
  {
    try
      {
        PrecisionSchedule::parse(text);
      }
    catch (const std::invalid_argument &error)
      {
        return error.what();
      }
    return "";
  }

  mpno::PrecisionPolicy
  half_with_autocast()
  {
    mpno::PrecisionPolicy policy;
    policy.spectral_precision = SpectralPrecision::half;
    policy.stabilizer         = mpno::Stabilizer::tanh;
    policy.autocast           = true;
    return policy;
  }

  /** Throws std::runtime_error in forward() once the spectral precision is @p stop_at:
   *  an interrupted run. */
  class InterruptedOperator : public WrappedOperator
  {
  public:
    InterruptedOperator(std::shared_ptr<mpno::NeuralOperator> inner, SpectralPrecision stop_at)
      : WrappedOperator(std::move(inner))
      , stop_at_(stop_at)
    {
    }

    torch::Tensor
    forward(torch::Tensor x) override
    {
      if (inner_->precision().spectral_precision == stop_at_)
        throw std::runtime_error("interrupted");
      return inner_->forward(x);
    }

  private:
    SpectralPrecision stop_at_;
  };

  std::vector<std::string>
  precision_labels(const std::vector<mpno::EpochRecord> &history)
  {
    std::vector<std::string> labels;
    for (const auto &record : history)
      labels.push_back(record.precision);
    return labels;
  }
} // namespace

TEST(PrecisionSchedule, ParsesAndWritesBack)
{
  const PrecisionSchedule schedule = PrecisionSchedule::parse(" 0:half,0.25 : mixed,  0.75:full ");
  ASSERT_EQ(schedule.phases().size(), 3u);
  EXPECT_EQ(schedule.phases()[0].start, 0.);
  EXPECT_EQ(schedule.phases()[0].precision, SpectralPrecision::half);
  EXPECT_EQ(schedule.phases()[1].start, 0.25);
  EXPECT_EQ(schedule.phases()[1].precision, SpectralPrecision::mixed);
  EXPECT_EQ(schedule.phases()[2].start, 0.75);
  EXPECT_EQ(schedule.phases()[2].precision, SpectralPrecision::full);
  EXPECT_EQ(schedule.to_string(), "0:half, 0.25:mixed, 0.75:full");
  EXPECT_EQ(PrecisionSchedule::parse(schedule.to_string()), schedule);

  const PrecisionSchedule two = PrecisionSchedule::parse("0.0:mixed, 3.4e-1:full");
  EXPECT_EQ(two.to_string(), "0:mixed, 0.34:full");
  EXPECT_FALSE(two == schedule);
}

TEST(PrecisionSchedule, MalformedTextIsRefusedWithTheReason)
{
  const std::map<std::string, std::string> expected = {
    {"", "no phase given"},
    {"   ", "no phase given"},
    {"0 half", "expected FRACTION:PRECISION, got '0 half'"},
    {"0:half,", "expected FRACTION:PRECISION, got ''"},
    {"zero:half", "'zero' in 'zero:half' is not a number"},
    {"0.5x:half", "'0.5x' in '0.5x:half' is not a number"},
    {":half", "'' in ':half' is not a number"},
    {"0:quarter", "expected half, mixed or full after '0:', got 'quarter'"},
    {"0:half, 1:full", "must be in [0, 1), got 1"},
    {"0:half, -0.5:full", "must be in [0, 1), got -0.5"},
    {"0:half, 0.5:mixed, 0.5:full", "must increase strictly, but 0.5 follows 0.5"},
    {"0:half, 0.75:mixed, 0.25:full", "must increase strictly, but 0.25 follows 0.75"},
    {"0.1:half, 0.5:full", "the first phase must start at 0, not at 0.1"},
  };
  for (const auto &[text, reason] : expected)
    {
      const std::string message = parse_error(text);
      EXPECT_NE(message.find("Precision schedule '" + text + "'"), std::string::npos) << message;
      EXPECT_NE(message.find(reason), std::string::npos) << "'" << text << "': " << message;
    }
  EXPECT_THROW(PrecisionSchedule({}), std::invalid_argument);
  EXPECT_THROW(PrecisionSchedule({{0.5, SpectralPrecision::half}}), std::invalid_argument);
}

TEST(PrecisionSchedule, SwitchesAtTheEndOfTheListedEpoch)
{
  // The fork's [125, 375] of 500 epochs (method.md Sec. 3).
  const PrecisionSchedule schedule = PrecisionSchedule::parse("0:half, 0.25:mixed, 0.75:full");
  EXPECT_EQ(schedule.first_epoch(0, 500), 1);
  EXPECT_EQ(schedule.first_epoch(1, 500), 126);
  EXPECT_EQ(schedule.first_epoch(2, 500), 376);
  const std::map<int64_t, std::size_t> phase_of =
    {{1, 0}, {2, 0}, {124, 0}, {125, 0}, {126, 1}, {127, 1}, {375, 1}, {376, 2}, {500, 2}};
  for (const auto &[epoch, phase] : phase_of)
    EXPECT_EQ(schedule.phase_index(epoch, 500), phase) << "epoch " << epoch;

  // Fractions are rounded to the nearest epoch: 0.34 * 3 = 1.02 and 0.67 * 3 = 2.01.
  const PrecisionSchedule thirds = PrecisionSchedule::parse("0:half, 0.34:mixed, 0.67:full");
  EXPECT_EQ(thirds.phase_index(1, 3), 0u);
  EXPECT_EQ(thirds.phase_index(2, 3), 1u);
  EXPECT_EQ(thirds.phase_index(3, 3), 2u);
  // Two fractions on the same epoch: the earlier phase is empty. Of 1 epoch, 0.34
  // rounds to 0 (no half epoch) and 0.67 to 1 (full would start with epoch 2).
  EXPECT_EQ(thirds.phase_index(1, 1), 1u);
  EXPECT_EQ(PrecisionSchedule::parse("0:half, 0.1:mixed, 0.2:full").phase_index(1, 2), 2u);

  // Autocast follows the base in half and mixed phases and is off in full; the
  // stabilizer and the reduced type stay.
  mpno::PrecisionPolicy base = half_with_autocast();
  base.spectral_precision    = SpectralPrecision::full;
  base.reduced_type          = mpno::ReducedType::bfloat16;
  for (const auto &[epoch, precision, autocast] :
       std::vector<std::tuple<int64_t, SpectralPrecision, bool>>{{125, SpectralPrecision::half, true},
                                                                 {126, SpectralPrecision::mixed, true},
                                                                 {376, SpectralPrecision::full, false}})
    {
      const mpno::PrecisionPolicy policy = schedule.policy(base, epoch, 500);
      EXPECT_EQ(policy.spectral_precision, precision) << "epoch " << epoch;
      EXPECT_EQ(policy.autocast, autocast) << "epoch " << epoch;
      EXPECT_EQ(policy.stabilizer, mpno::Stabilizer::tanh);
      EXPECT_EQ(policy.reduced_type, mpno::ReducedType::bfloat16);
    }
  base.autocast = false;
  EXPECT_FALSE(schedule.policy(base, 1, 500).autocast);
}

TEST_F(TrainerTest, ScheduleSwitchesPrecisionEachEpochAndIsLogged)
{
  mpno::TrainerOptions options = small_training(3);
  options.precision_schedule   = PrecisionSchedule::parse("0:half, 0.34:mixed, 0.67:full");
  // The model starts in full precision: the schedule sets half for epoch 1.
  mpno::PrecisionPolicy base = half_with_autocast();
  base.spectral_precision    = SpectralPrecision::full;
  std::ostringstream log;
  ScratchDirectory   out("schedule_switches");
  mpno::Trainer      trainer(make_model(7, base), options, out.path, &log);
  trainer.set_normalizers(true, true);
  trainer.train(darcy_train(), darcy_test());

  EXPECT_EQ(precision_labels(trainer.history()), (std::vector<std::string>{"half+autocast", "mixed+autocast", "full"}));
  const mpno::PrecisionPolicy final_policy = trainer.model()->precision();
  EXPECT_EQ(final_policy.spectral_precision, SpectralPrecision::full);
  EXPECT_FALSE(final_policy.autocast);
  EXPECT_EQ(final_policy.stabilizer, mpno::Stabilizer::tanh);
  for (const auto &record : trainer.history())
    {
      EXPECT_EQ(record.skipped_steps, 0);
      EXPECT_TRUE(std::isfinite(record.train_loss));
    }

  const std::string text  = log.str();
  const auto        one   = text.find("epoch 1: precision schedule switches to half (autocast on)");
  const auto        two   = text.find("epoch 2: precision schedule switches to mixed (autocast on)");
  const auto        three = text.find("epoch 3: precision schedule switches to full (autocast off)");
  EXPECT_NE(one, std::string::npos) << text;
  EXPECT_NE(two, std::string::npos) << text;
  EXPECT_NE(three, std::string::npos) << text;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
  EXPECT_NE(text.find("precision schedule 0:half, 0.34:mixed, 0.67:full"), std::string::npos) << text;

  // history.csv records the scheduled precision, state.txt the schedule.
  std::ifstream history(out.path / "history.csv");
  std::string   line, rows;
  while (std::getline(history, line))
    rows += line.substr(line.rfind(',') + 1) + ";";
  EXPECT_EQ(rows, "precision;half+autocast;mixed+autocast;full;");
  std::ifstream      state_file(out.path / "checkpoint" / "state.txt");
  std::ostringstream state;
  state << state_file.rdbuf();
  EXPECT_NE(state.str().find("precision_schedule = 0:half, 0.34:mixed, 0.67:full\n"), std::string::npos);
  EXPECT_NE(state.str().find("precision_schedule.autocast = true\n"), std::string::npos);
}

TEST_F(TrainerTest, ResumeAcrossAScheduleSwitchIsBitIdentical)
{
  mpno::TrainerOptions options = small_training(3);
  options.precision_schedule   = PrecisionSchedule::parse("0:half, 0.34:mixed, 0.67:full");

  mpno::Trainer uninterrupted(std::make_shared<WrappedOperator>(make_model(13, half_with_autocast())), options, "");
  uninterrupted.set_normalizers(true, true);
  uninterrupted.train(darcy_train(), darcy_test());

  // The same run, interrupted when epoch 2 switches to mixed: its checkpoint is that of
  // epoch 1 (in half).
  ScratchDirectory first_dir("schedule_interrupted");
  {
    mpno::Trainer first(std::make_shared<InterruptedOperator>(make_model(13, half_with_autocast()),
                                                              SpectralPrecision::mixed),
                        options,
                        first_dir.path);
    first.set_normalizers(true, true);
    EXPECT_THROW(first.train(darcy_train(), darcy_test()), std::runtime_error);
    EXPECT_EQ(first.epoch(), 1);
  }

  // A differently initialised full-precision model and no schedule in the options: the
  // schedule, its autocast and the precision come from the checkpoint.
  mpno::TrainerOptions no_schedule = small_training(3);
  std::ostringstream   log;
  mpno::Trainer        resumed(std::make_shared<WrappedOperator>(make_model(99)), no_schedule, "", &log);
  resumed.set_normalizers(false, false);
  resumed.load_checkpoint(first_dir.path / "checkpoint");
  EXPECT_EQ(resumed.epoch(), 1);
  EXPECT_EQ(resumed.model()->precision().spectral_precision, SpectralPrecision::half);
  ASSERT_TRUE(resumed.options().precision_schedule.has_value());
  EXPECT_EQ(*resumed.options().precision_schedule, *options.precision_schedule);
  EXPECT_NE(log.str().find("Precision schedule from the checkpoint: 0:half, 0.34:mixed, 0.67:full (the "
                           "options' none is not used)"),
            std::string::npos)
    << log.str();
  resumed.train(darcy_train(), darcy_test());
  const std::string switch_line  = "epoch 2: precision schedule switches to mixed (autocast on)";
  const auto        first_switch = log.str().find(switch_line);
  EXPECT_NE(first_switch, std::string::npos) << log.str();
  EXPECT_EQ(log.str().find(switch_line, first_switch + 1), std::string::npos) << "logged twice:\n" << log.str();

  expect_identical(snapshot(*resumed.model()), snapshot(*uninterrupted.model()));
  const auto &a = uninterrupted.history();
  const auto &b = resumed.history();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(precision_labels(b), (std::vector<std::string>{"half+autocast", "mixed+autocast", "full"}));
  EXPECT_EQ(precision_labels(b), precision_labels(a));
  for (std::size_t e = 0; e < a.size(); ++e)
    {
      EXPECT_EQ(a[e].train_loss, b[e].train_loss) << "epoch " << e + 1;
      EXPECT_EQ(a[e].test_errors.at("16").l2, b[e].test_errors.at("16").l2) << "epoch " << e + 1;
    }
}

TEST_F(TrainerTest, ScheduleNeverLowersAPrecisionRaisedAfterNonFiniteSteps)
{
  // NaN outputs whenever the spectral precision is below full. Epoch 1 is full; epoch 2
  // is half: 3 NaN steps raise it to mixed, the 4th is NaN too; in epoch 3 the schedule
  // asks for half again but the precision stays mixed, where 2 more NaN steps raise it
  // to full with autocast; epoch 4 starts the mixed phase but stays there too.
  mpno::TrainerOptions options = small_training(4); // 64 samples, 4 steps per epoch
  options.max_nonfinite_steps  = 3;
  options.precision_schedule   = PrecisionSchedule::parse("0:full, 0.25:half, 0.75:mixed");
  auto               model     = std::make_shared<PoisonedOperator>(make_model(5, half_with_autocast()), false);
  std::ostringstream log;
  ScratchDirectory   out("schedule_raised");
  mpno::Trainer      trainer(model, options, out.path, &log);
  trainer.set_normalizers(true, true);
  trainer.train(darcy_train(), darcy_test());

  const auto &history = trainer.history();
  EXPECT_EQ(precision_labels(history),
            (std::vector<std::string>{"full", "mixed+autocast", "full+autocast", "full+autocast"}));
  std::vector<int64_t> skipped;
  for (const auto &record : history)
    skipped.push_back(record.skipped_steps);
  EXPECT_EQ(skipped, (std::vector<int64_t>{0, 4, 2, 0}));
  EXPECT_NE(log.str().find("epoch 4: precision schedule switches to mixed (autocast on), held at full (autocast "
                           "on) (raised after non-finite steps)"),
            std::string::npos)
    << log.str();

  // The raised policy is in the checkpoint: a resumed run holds it as well.
  std::ifstream      state_file(out.path / "checkpoint" / "state.txt");
  std::ostringstream state;
  state << state_file.rdbuf();
  EXPECT_NE(state.str().find("precision_raised.spectral_precision = full\n"), std::string::npos) << state.str();
  EXPECT_NE(state.str().find("precision_raised.autocast = true\n"), std::string::npos) << state.str();
}
