// The generic plugin registry (registry.h) and the Surrogate system's built-in "fno".
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/utilities.h>

#include <mpno/plugin/registry.h>
#include <mpno/plugin/surrogate.h>

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace
{
  struct Shape
  {
    virtual ~Shape() = default;
    virtual std::string
    name() const = 0;
  };

  struct Circle : Shape
  {
    static void
    declare_parameters(dealii::ParameterHandler &prm)
    {
      prm.enter_subsection("Circle");
      prm.declare_entry("Radius", "1", dealii::Patterns::Double(0), "The radius.");
      prm.leave_subsection();
    }
    std::string
    name() const override
    {
      return "circle";
    }
  };

  struct Square : Shape
  {
    static void
    declare_parameters(dealii::ParameterHandler &)
    {
    }
    std::string
    name() const override
    {
      return "square";
    }
  };

  mpno::plugin::Registry<Shape>
  two_shapes()
  {
    mpno::plugin::Registry<Shape> registry;
    mpno::plugin::RegisterPlugin<Shape>::make<Circle>(registry, "circle", "a round shape");
    mpno::plugin::RegisterPlugin<Shape>::make<Square>(registry, "square", "four equal sides");
    return registry;
  }
} // namespace

TEST(PluginRegistry, RegistersAndCreatesByName)
{
  const auto registry = two_shapes();
  EXPECT_EQ(registry.create("circle")->name(), "circle");
  EXPECT_EQ(registry.create("square")->name(), "square");
  EXPECT_EQ(registry.documentation(), "circle: a round shape; square: four equal sides");

  dealii::ParameterHandler prm;
  registry.declare_parameters(prm);
  prm.enter_subsection("Circle");
  EXPECT_EQ(prm.get_double("Radius"), 1.);
  prm.leave_subsection();
}

TEST(PluginRegistry, NamesFeedASelection)
{
  const auto registry = two_shapes();
  EXPECT_EQ(registry.names(), "circle|square");
  const dealii::Patterns::Selection selection(registry.names());
  EXPECT_TRUE(selection.match("square"));
  EXPECT_FALSE(selection.match("triangle"));
  EXPECT_EQ(mpno::plugin::Registry<Shape>().names(), "");
}

TEST(PluginRegistry, ADuplicateNameIsRefused)
{
  auto registry = two_shapes();
  try
    {
      mpno::plugin::RegisterPlugin<Shape>::make<Square>(registry, "circle", "again");
      FAIL() << "no error for a duplicate name";
    }
  catch (const std::logic_error &error)
    {
      EXPECT_NE(std::string(error.what()).find("'circle'"), std::string::npos) << error.what();
    }
  EXPECT_EQ(registry.names(), "circle|square");
}

TEST(PluginRegistry, AnUnknownNameListsTheChoices)
{
  const auto registry = two_shapes();
  try
    {
      registry.create("triangle");
      FAIL() << "no error for an unknown name";
    }
  catch (const std::invalid_argument &error)
    {
      const std::string message = error.what();
      EXPECT_NE(message.find("'triangle'"), std::string::npos) << message;
      EXPECT_NE(message.find("circle|square"), std::string::npos) << message;
    }
}

TEST(PluginRegistry, TheBuiltInSurrogatesAreFnoTfnoAndSfno)
{
  auto &registry = mpno::Surrogate::registry();
  // Registration order follows static initialisation, i.e. link order.
  std::set<std::string> names;
  for (const auto &name : dealii::Utilities::split_string_list(registry.names(), '|'))
    names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"fno", "gino", "sfno", "tfno"})) << registry.names();

  dealii::ParameterHandler prm;
  prm.enter_subsection("Surrogate");
  registry.declare_parameters(prm);
  prm.enter_subsection("FNO");
  prm.set("n_modes", "4, 4");
  prm.set("hidden_channels", "8");
  prm.leave_subsection();

  const auto fno = registry.create("fno");
  fno->parse_parameters(prm);
  prm.leave_subsection();
  EXPECT_EQ(fno->spatial_dimension(), 2);
  const auto [model, config] = fno->configuration(3, 1);
  EXPECT_EQ(model, "fno");
  EXPECT_NE(config.find("in_channels = 3\nout_channels = 1\nhidden_channels = 8\n"), std::string::npos) << config;

  prm.enter_subsection("Surrogate");
  prm.enter_subsection("SFNO");
  prm.set("n_modes", "8, 16");
  prm.set("grid", "legendre-gauss");
  prm.leave_subsection();
  const auto sfno = registry.create("sfno");
  sfno->parse_parameters(prm);
  prm.leave_subsection();
  EXPECT_EQ(sfno->spatial_dimension(), 2);
  const auto [sfno_model, sfno_config] = sfno->configuration(2, 1);
  EXPECT_EQ(sfno_model, "sfno");
  EXPECT_NE(sfno_config.find("n_modes = 8, 16\nin_channels = 2\nout_channels = 1\n"), std::string::npos) << sfno_config;
  EXPECT_NE(sfno_config.find("grid = legendre-gauss\n"), std::string::npos) << sfno_config;
}

TEST(PluginRegistry, TfnoReadsItsFactorizationFromSubsectionTFNO)
{
  auto                    &registry = mpno::Surrogate::registry();
  dealii::ParameterHandler prm;
  prm.enter_subsection("Surrogate");
  registry.declare_parameters(prm);
  prm.enter_subsection("TFNO");
  prm.set("n_modes", "4, 4");
  prm.set("factorization", "cp");
  prm.leave_subsection();

  const auto tfno = registry.create("tfno");
  tfno->parse_parameters(prm);
  const auto [model, config] = tfno->configuration(1, 1);
  EXPECT_EQ(model, "tfno");
  EXPECT_NE(config.find("factorization = cp\nrank = 0.05\nimplementation = factorized\n"), std::string::npos) << config;

  prm.enter_subsection("TFNO");
  prm.set("rank", "0");
  prm.leave_subsection();
  try
    {
      tfno->parse_parameters(prm);
      ADD_FAILURE() << "rank = 0 accepted";
    }
  catch (const std::invalid_argument &error)
    {
      EXPECT_NE(std::string(error.what()).find("Surrogate/TFNO/rank"), std::string::npos) << error.what();
    }
  prm.leave_subsection();
}
