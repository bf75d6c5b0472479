// The parameter handling of `mpno train` (plugin/parameters.h): declared entries and
// their documentation, path resolution, the "name: path" list, clean error messages.
#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/parameters.h>

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace fs = std::filesystem;
using mpno::plugin::UserError;

namespace
{
  const fs::path test_dir = MPNO_PLUGIN_TEST_DIR;

  /** The message of the UserError that parsing @p file throws ("" if none). */
  std::string
  parse_error(const fs::path &file)
  {
    dealii::ParameterHandler prm;
    mpno::plugin::declare_parameters(prm);
    try
      {
        mpno::plugin::parse_parameter_file(prm, file);
      }
    catch (const UserError &error)
      {
        return error.what();
      }
    return "";
  }
} // namespace

TEST(PluginParameters, EveryEntryIsDocumented)
{
  dealii::ParameterHandler prm;
  mpno::plugin::declare_parameters(prm);
  std::ostringstream out;
  prm.print_parameters(out, dealii::ParameterHandler::PRM);
  std::istringstream in(out.str());
  std::string        line, previous;
  int                entries = 0;
  while (std::getline(in, line))
    {
      const auto first = line.find_first_not_of(' ');
      if (first != std::string::npos && line.compare(first, 4, "set ") == 0)
        {
          ++entries;
          const auto p = previous.find_first_not_of(' ');
          EXPECT_TRUE(p != std::string::npos && previous[p] == '#') << "undocumented: " << line;
        }
      if (first != std::string::npos)
        previous = line;
    }
  // Top level (Additional shared libraries, Dimension, Output directory, Number of
  // threads, Device, Checkpoint), Problem (Name, Darcy's 9, Heat's 9, Nonlinear Darcy's 13, Sphere's 8, Holes's 9),
  // Data generation, Surrogate with FNO (Model and 12), TFNO (the FNO's 12 and factorization, rank,
  // implementation), SFNO (11) and GINO (19), Precision (with Schedule), Data, Training (15), Hybrid
  // solver (8, with Initial guess's 1, Replace's 3 and Preconditioner's 5).
  EXPECT_EQ(entries, 6 + (1 + 9 + 9 + 13 + 8 + 9) + 8 + 13 + 15 + 11 + 19 + 5 + 7 + 15 + (8 + 3 + 5));
}

TEST(PluginParameters, ParsesTheSmallTrainingFile)
{
  dealii::ParameterHandler prm;
  mpno::plugin::declare_parameters(prm);
  mpno::plugin::parse_parameter_file(prm, test_dir / "train_small.prm");
  prm.enter_subsection("Surrogate");
  prm.enter_subsection("FNO");
  EXPECT_EQ(prm.get("n_modes"), "4, 4");
  EXPECT_EQ(prm.get_integer("hidden_channels"), 8);
  EXPECT_EQ(prm.get("fno_skip"), "linear"); // the default
  prm.leave_subsection();
  prm.leave_subsection();
  prm.enter_subsection("Precision");
  EXPECT_EQ(prm.get("Spectral precision"), "mixed");
  EXPECT_TRUE(prm.get_bool("Autocast"));
  prm.leave_subsection();
}

TEST(PluginParameters, TheDarcyParameterFileIsValidAndItsDataExist)
{
  const fs::path           file = fs::path(MPNO_PARAMETER_FILES_DIR) / "darcy_pt_fno.prm";
  dealii::ParameterHandler prm;
  mpno::plugin::declare_parameters(prm);
  ASSERT_NO_THROW(mpno::plugin::parse_parameter_file(prm, file));

  prm.enter_subsection("Data");
  const fs::path training = mpno::plugin::resolve_path(prm.get("Training file"), file);
  EXPECT_EQ(training.filename(), "darcy_train_16.pt");
  EXPECT_TRUE(fs::is_regular_file(training)) << training;
  const auto tests = mpno::plugin::parse_named_paths(prm.get("Test files"), "Data/Test files", file);
  prm.leave_subsection();
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0].first, "16");
  const fs::path test = mpno::plugin::resolve_path(tests[0].second, file);
  EXPECT_EQ(test.filename(), "darcy_test_16.pt");
  EXPECT_TRUE(fs::is_regular_file(test)) << test;

  // The configuration of issue 2 (neuraloperator's small Darcy example).
  prm.enter_subsection("Surrogate");
  prm.enter_subsection("FNO");
  EXPECT_EQ(prm.get("n_modes"), "8, 8");
  EXPECT_EQ(prm.get_integer("hidden_channels"), 32);
  prm.leave_subsection();
  prm.leave_subsection();
  prm.enter_subsection("Training");
  EXPECT_EQ(prm.get_integer("Epochs"), 20);
  EXPECT_EQ(prm.get_integer("Batch size"), 32);
  EXPECT_EQ(prm.get("Resume from"), "");
  prm.leave_subsection();
}

TEST(PluginParameters, ErrorsNameTheFileAndTheEntry)
{
  const std::string unknown = parse_error(test_dir / "unknown_entry.prm");
  EXPECT_NE(unknown.find("unknown_entry.prm"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("Number of epochs"), std::string::npos) << unknown;

  const std::string bad = parse_error(test_dir / "bad_value.prm");
  EXPECT_NE(bad.find("bad_value.prm"), std::string::npos) << bad;
  EXPECT_NE(bad.find("Spectral precision"), std::string::npos) << bad;
  EXPECT_NE(bad.find("quarter"), std::string::npos) << bad;

  const std::string missing = parse_error(test_dir / "no_such_file.prm");
  EXPECT_NE(missing.find("no_such_file.prm"), std::string::npos) << missing;
  EXPECT_NE(missing.find("does not exist"), std::string::npos) << missing;
}

TEST(PluginParameters, RelativePathsAreRelativeToTheParameterFile)
{
  EXPECT_EQ(mpno::plugin::resolve_path("../data/a.pt", "/x/y/run.prm"), fs::path("/x/data/a.pt"));
  EXPECT_EQ(mpno::plugin::resolve_path("a.pt", "run.prm"), fs::path("a.pt"));
  EXPECT_EQ(mpno::plugin::resolve_path("/abs/a.pt", "/x/y/run.prm"), fs::path("/abs/a.pt"));
  EXPECT_EQ(mpno::plugin::resolve_path("", "/x/y/run.prm"), fs::path());
}

TEST(PluginParameters, NamedPaths)
{
  const auto pairs = mpno::plugin::parse_named_paths("16: ../a.pt, 32 :b/c.pt,", "Data/Test files", "f.prm");
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0], std::make_pair(std::string("16"), std::string("../a.pt")));
  EXPECT_EQ(pairs[1], std::make_pair(std::string("32"), std::string("b/c.pt")));
  EXPECT_TRUE(mpno::plugin::parse_named_paths("", "Data/Test files", "f.prm").empty());

  for (const std::string bad : {"a.pt", ": a.pt", "16: a.pt, 16: b.pt", "a b: c.pt", "16:"})
    {
      try
        {
          mpno::plugin::parse_named_paths(bad, "Data/Test files", "f.prm");
          ADD_FAILURE() << "no error for '" << bad << "'";
        }
      catch (const UserError &error)
        {
          const std::string message = error.what();
          EXPECT_NE(message.find("Data/Test files"), std::string::npos) << message;
          EXPECT_NE(message.find("f.prm"), std::string::npos) << message;
        }
    }
}
