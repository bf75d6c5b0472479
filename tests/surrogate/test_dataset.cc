// load_pt_dataset (dataset.h): the Darcy files shipped in data/ against torch::pickle_load
// read directly, and one error per documented failure, each file written by pickle_save.
#include <mpno/surrogate/dataset.h>

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace
{
  const std::string data_dir = MPNO_DATA_DIR;

  /** A file in the temporary directory, removed when this goes out of scope. */
  struct TempFile
  {
    explicit TempFile(const std::string &name, const std::vector<char> &bytes)
      : path((std::filesystem::temp_directory_path() / ("mpno_test_dataset_" + std::to_string(::getpid()) + "_" + name))
               .string())
    {
      std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
    }
    TempFile(const TempFile &) = delete;
    ~TempFile()
    {
      std::filesystem::remove(path);
    }
    std::string path;
  };

  /** What torch.save({key: tensor, ...}) writes. */
  TempFile
  write_pt(const std::string &name, const std::vector<std::pair<std::string, torch::Tensor>> &items)
  {
    c10::Dict<std::string, torch::Tensor> dict;
    for (const auto &[key, tensor] : items)
      dict.insert(key, tensor);
    return TempFile(name, torch::pickle_save(c10::IValue(dict)));
  }

  c10::impl::GenericDict
  pickle_load_file(const std::string &path)
  {
    std::ifstream           file(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), {});
    return torch::pickle_load(bytes).toGenericDict();
  }

  /** The message of the Exception thrown by @p f, with every one of @p parts in it. */
  template <typename Exception, typename F>
  void
  expect_error(F &&f, const std::vector<std::string> &parts)
  {
    try
      {
        f();
        ADD_FAILURE() << "no exception thrown";
      }
    catch (const Exception &error)
      {
        const std::string message = error.what();
        for (const auto &part : parts)
          EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
      }
  }
} // namespace

TEST(Dataset, LoadsDarcyTestFileAsPickleLoadReadsIt)
{
  const auto data = mpno::load_pt_dataset(data_dir + "/darcy_test_16.pt");
  ASSERT_EQ(data.size(), 50);
  EXPECT_EQ(data.x.sizes(), torch::IntArrayRef({50, 1, 16, 16}));
  EXPECT_EQ(data.y.sizes(), torch::IntArrayRef({50, 1, 16, 16}));
  EXPECT_EQ(data.grid_shape(), std::vector<int64_t>({16, 16}));
  for (const auto &t : {data.x, data.y})
    {
      EXPECT_EQ(t.scalar_type(), torch::kFloat32);
      EXPECT_TRUE(t.is_contiguous());
    }
  // The coefficient is binary and both phases occur; the solution is finite.
  EXPECT_TRUE(((data.x == 0) | (data.x == 1)).all().item<bool>());
  EXPECT_EQ(data.x.sum().item<double>(), 6298.);
  EXPECT_TRUE(torch::isfinite(data.y).all().item<bool>());

  const auto raw = pickle_load_file(data_dir + "/darcy_test_16.pt");
  EXPECT_TRUE(torch::equal(data.x, raw.at("x").toTensor().to(torch::kFloat32).unsqueeze(1)));
  EXPECT_TRUE(torch::equal(data.y, raw.at("y").toTensor().unsqueeze(1)));
  EXPECT_EQ(data.y[0][0][0][0].item<float>(), 0.00017661466f);
  EXPECT_EQ(data.y[0][0][3][5].item<float>(), 0.852541208f);
}

TEST(Dataset, MaxSamplesAndHeadKeepTheFirstSamples)
{
  const auto all = mpno::load_pt_dataset(data_dir + "/darcy_train_16.pt");
  ASSERT_EQ(all.size(), 1000);
  const auto first = mpno::load_pt_dataset(data_dir + "/darcy_train_16.pt", "x", "y", 2, 10);
  ASSERT_EQ(first.size(), 10);
  EXPECT_TRUE(torch::equal(first.x, all.x.narrow(0, 0, 10)));
  EXPECT_TRUE(torch::equal(first.y, all.y.narrow(0, 0, 10)));
  EXPECT_EQ(all.head(3).size(), 3);
  EXPECT_TRUE(torch::equal(all.head(3).y, all.y.narrow(0, 0, 3)));
  EXPECT_EQ(all.head(0).size(), 1000);
  EXPECT_EQ(all.head(5000).size(), 1000);
  EXPECT_EQ(mpno::TensorDataset{}.size(), 0);
}

TEST(Dataset, ConvertsDtypesAndKeepsGivenChannels)
{
  const auto x    = torch::arange(24, torch::kInt64).reshape({3, 2, 4}); // with channels
  const auto y    = torch::rand({3, 4}, torch::kFloat64);                // without
  const auto file = write_pt("convert.pt", {{"a", x}, {"u", y}});
  const auto data = mpno::load_pt_dataset(file.path, "a", "u", 1);
  EXPECT_EQ(data.x.sizes(), torch::IntArrayRef({3, 2, 4}));
  EXPECT_EQ(data.y.sizes(), torch::IntArrayRef({3, 1, 4}));
  EXPECT_EQ(data.x.scalar_type(), torch::kFloat32);
  EXPECT_EQ(data.y.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(data.x, x.to(torch::kFloat32)));
  EXPECT_TRUE(torch::equal(data.y, y.to(torch::kFloat32).unsqueeze(1)));
}

TEST(Dataset, MissingFileIsNamed)
{
  const std::string path = data_dir + "/no_such_file.pt";
  expect_error<std::runtime_error>([&] { mpno::load_pt_dataset(path); }, {path, "no such file"});
}

TEST(Dataset, GarbageFileIsNotATorchSaveFile)
{
  const std::string text = "this is not a zip archive";
  const TempFile    file("garbage.pt", std::vector<char>(text.begin(), text.end()));
  expect_error<std::runtime_error>([&] { mpno::load_pt_dataset(file.path); },
                                   {file.path, "expected a torch.save file", "could not be read"});
}

TEST(Dataset, TensorInsteadOfDict)
{
  const TempFile file("tensor.pt", torch::pickle_save(c10::IValue(torch::ones({2, 4, 4}))));
  expect_error<std::runtime_error>([&] { mpno::load_pt_dataset(file.path); },
                                   {file.path, "expected a dict of tensors, found Tensor"});
}

TEST(Dataset, MissingKeyListsKeysPresent)
{
  const auto file = write_pt("missing_key.pt", {{"x", torch::ones({2, 4, 4})}, {"sol", torch::ones({2, 4, 4})}});
  expect_error<std::invalid_argument>([&] { mpno::load_pt_dataset(file.path); },
                                      {file.path, "key 'y'", "not found", "'x'", "'sol'"});
}

TEST(Dataset, WrongRank)
{
  const auto file = write_pt("rank.pt", {{"x", torch::ones({2, 16})}, {"y", torch::ones({2, 16, 16})}});
  expect_error<std::invalid_argument>([&] { mpno::load_pt_dataset(file.path); },
                                      {file.path, "key 'x'", "expected rank 3", "or 4", "found rank 2"});
}

TEST(Dataset, MismatchedSampleCountsAndGrids)
{
  const auto samples = write_pt("samples.pt", {{"x", torch::ones({4, 8, 8})}, {"y", torch::ones({5, 8, 8})}});
  expect_error<std::invalid_argument>([&] { mpno::load_pt_dataset(samples.path); },
                                      {samples.path, "samples", "found 4 and 5"});
  const auto grids = write_pt("grids.pt", {{"x", torch::ones({4, 8, 8})}, {"y", torch::ones({4, 8, 6})}});
  expect_error<std::invalid_argument>([&] { mpno::load_pt_dataset(grids.path); },
                                      {grids.path, "grid", "[8, 8] and [8, 6]"});
}

TEST(Dataset, ComplexDtype)
{
  const auto file =
    write_pt("complex.pt", {{"x", torch::ones({2, 4, 4})}, {"y", torch::ones({2, 4, 4}, torch::kComplexFloat)}});
  expect_error<std::invalid_argument>([&] { mpno::load_pt_dataset(file.path); },
                                      {file.path, "key 'y'", "found ComplexFloat"});
}

TEST(Dataset, NonFiniteValues)
{
  auto y          = torch::ones({2, 4, 4});
  y[1][2][3]      = std::numeric_limits<float>::quiet_NaN();
  const auto file = write_pt("nan.pt", {{"x", torch::ones({2, 4, 4})}, {"y", y}});
  expect_error<std::invalid_argument>([&] { mpno::load_pt_dataset(file.path); },
                                      {file.path, "key 'y'", "finite", "found 1 non-finite"});
}
