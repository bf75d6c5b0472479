// Dataset files (dataset_file.h, dataset_export.h, dataset_tensors.h): HDF5 round trip with
// attributes, max_samples, the temporary of an unclosed writer, error messages, export to .pt
// read back by load_pt_dataset, and the tensor layout.
#include <deal.II/base/exceptions.h>
#include <deal.II/base/hdf5.h>

#include <mpno/coupling/dataset_export.h>
#include <mpno/coupling/dataset_file.h>
#include <mpno/surrogate/dataset.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "dataset_tensors.h"

namespace fs = std::filesystem;

namespace
{
  /** A set with distinct, exactly representable values: x[k] = offset + k / 8, y[k] = -x[k]. */
  mpno::GridDataSet
  make_set(const std::string &name, std::vector<unsigned int> grid, unsigned int in, unsigned int out, std::size_t n)
  {
    mpno::GridDataSet set;
    set.name         = name;
    set.grid_shape   = grid;
    set.in_channels  = in;
    set.out_channels = out;
    for (std::size_t i = 0; i < n; ++i)
      set.seeds.push_back((std::uint64_t(1) << 63) + 7 * i); // beyond 32 and 63 bits
    for (std::size_t k = 0; k < n * in * set.points_per_sample(); ++k)
      set.x.push_back(0.5f + k / 8.f);
    for (std::size_t k = 0; k < n * out * set.points_per_sample(); ++k)
      set.y.push_back(-1.f - k / 8.f);
    return set;
  }

  void
  expect_equal(const mpno::GridDataSet &a, const mpno::GridDataSet &b)
  {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.grid_shape, b.grid_shape);
    EXPECT_EQ(a.in_channels, b.in_channels);
    EXPECT_EQ(a.out_channels, b.out_channels);
    EXPECT_EQ(a.x, b.x);
    EXPECT_EQ(a.y, b.y);
    EXPECT_EQ(a.seeds, b.seeds);
  }

  /** The message of the exception @p f throws ("" if none); of an ExcMessage its text, not wrapped into lines. */
  template <typename Function>
  std::string
  message_of(Function f)
  {
    try
      {
        f();
      }
    catch (const dealii::ExceptionBase &error)
      {
        std::ostringstream message;
        error.print_info(message);
        return message.str();
      }
    catch (const std::exception &error)
      {
        return error.what();
      }
    return "";
  }

  class DatasetFile : public ::testing::Test
  {
  protected:
    void
    SetUp() override
    {
      directory = fs::temp_directory_path() / ("mpno_test_" + std::to_string(std::random_device()()));
      fs::create_directories(directory);
    }
    void
    TearDown() override
    {
      fs::remove_all(directory);
    }
    fs::path directory;
  };
} // namespace


TEST_F(DatasetFile, RoundTripOfTwoSetsAndAttributes)
{
  const auto train = make_set("train", {3, 4}, 1, 1, 3);
  const auto test  = make_set("test_64", {5}, 2, 3, 2);
  const auto path  = directory / "dataset.h5";
  {
    mpno::DatasetFileWriter writer(path);
    writer.set_attribute("problem", "darcy");
    writer.set_attribute("parameters", "set a = 1\nset b = 2.5e-3 # µ");
    writer.set_attribute("problem", "darcy_2d"); // replaces
    writer.add_set(train);
    writer.add_set(test);
    EXPECT_FALSE(fs::exists(path));
    writer.close();
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(directory / "dataset.h5.tmp"));
  EXPECT_EQ(mpno::list_sets(path), (std::vector<std::string>{"test_64", "train"}));
  expect_equal(mpno::read_set(path, "train"), train);
  expect_equal(mpno::read_set(path, "test_64"), test);
  EXPECT_EQ(mpno::read_attributes(path),
            (std::map<std::string, std::string>{{"parameters", "set a = 1\nset b = 2.5e-3 # µ"},
                                                {"problem", "darcy_2d"}}));
}


TEST_F(DatasetFile, MaxSamplesReadsTheFirstSamples)
{
  const auto              train = make_set("train", {2, 3}, 2, 1, 4);
  const auto              path  = directory / "dataset.h5";
  mpno::DatasetFileWriter writer(path);
  writer.add_set(train);
  writer.close();

  const auto head = mpno::read_set(path, "train", 3);
  EXPECT_EQ(head.n_samples(), 3u);
  EXPECT_EQ(head.x, std::vector<float>(train.x.begin(), train.x.begin() + 3 * 2 * 6));
  EXPECT_EQ(head.y, std::vector<float>(train.y.begin(), train.y.begin() + 3 * 1 * 6));
  EXPECT_EQ(head.seeds, std::vector<std::uint64_t>(train.seeds.begin(), train.seeds.begin() + 3));
  expect_equal(mpno::read_set(path, "train", 10), train);
}


TEST_F(DatasetFile, WriterWithoutCloseLeavesNoFile)
{
  const auto path = directory / "dataset.h5";
  {
    mpno::DatasetFileWriter writer(path);
    writer.add_set(make_set("train", {3, 3}, 1, 1, 2));
    EXPECT_TRUE(fs::exists(directory / "dataset.h5.tmp"));
  }
  EXPECT_FALSE(fs::exists(directory / "dataset.h5.tmp"));
  EXPECT_FALSE(fs::exists(path));
}


TEST_F(DatasetFile, WriterRejectsInconsistentAndDuplicateSets)
{
  mpno::DatasetFileWriter writer(directory / "dataset.h5");
  writer.add_set(make_set("train", {3, 3}, 1, 1, 2));
  const std::string duplicate = message_of([&] { writer.add_set(make_set("train", {3, 3}, 1, 1, 2)); });
  EXPECT_NE(duplicate.find("set 'train'"), std::string::npos) << duplicate;
  EXPECT_NE(duplicate.find("already"), std::string::npos) << duplicate;

  auto bad = make_set("test_32", {3, 3}, 1, 1, 2);
  bad.y.pop_back();
  const std::string size = message_of([&] { writer.add_set(bad); });
  EXPECT_NE(size.find("set 'test_32'"), std::string::npos) << size;
  EXPECT_NE(size.find("expected y of size"), std::string::npos) << size;
  EXPECT_NE(size.find("= 18, found 17"), std::string::npos) << size;

  const auto        unwritable = directory / "no_such_directory" / "dataset.h5";
  const std::string create     = message_of([&] { mpno::DatasetFileWriter{unwritable}; });
  EXPECT_NE(create.find("cannot create '" + unwritable.string() + ".tmp' (H5Fcreate"), std::string::npos) << create;
}


TEST_F(DatasetFile, ReadErrorsNameTheFileAndTheSet)
{
  const auto        missing = directory / "missing.h5";
  const std::string no_file = message_of([&] { mpno::read_set(missing, "train"); });
  EXPECT_NE(no_file.find(missing.string()), std::string::npos) << no_file;
  EXPECT_NE(no_file.find("no such file"), std::string::npos) << no_file;
  EXPECT_THROW(mpno::list_sets(missing), std::runtime_error);
  EXPECT_THROW(mpno::read_attributes(missing), std::runtime_error);

  const auto text = directory / "text.h5";
  std::ofstream(text) << "not HDF5";
  const std::string not_hdf5 = message_of([&] { mpno::list_sets(text); });
  EXPECT_NE(not_hdf5.find(text.string()), std::string::npos) << not_hdf5;

  const auto path = directory / "dataset.h5";
  {
    mpno::DatasetFileWriter writer(path);
    writer.add_set(make_set("train", {3, 3}, 1, 1, 2));
    writer.add_set(make_set("test_32", {3, 3}, 1, 1, 2));
    writer.close();
  }
  const std::string no_set = message_of([&] { mpno::read_set(path, "test_64"); });
  EXPECT_NE(no_set.find(path.string()), std::string::npos) << no_set;
  EXPECT_NE(no_set.find("set 'test_64'"), std::string::npos) << no_set;
  EXPECT_NE(no_set.find("['test_32', 'train']"), std::string::npos) << no_set;
}


TEST_F(DatasetFile, ReadRejectsWrongRanksAndShapes)
{
  // Files as another program might write them, through deal.II's wrappers.
  const auto path = directory / "bad.h5";
  {
    dealii::HDF5::File file(path.string(), dealii::HDF5::File::FileAccessMode::create);
    const auto         flat = file.create_group("flat");
    flat.write_dataset("x", std::vector<float>(6, 1.f));
    flat.write_dataset("y", std::vector<float>(6, 1.f));
    flat.write_dataset("seeds", std::vector<unsigned int>(6, 1));
    const auto mismatch = file.create_group("mismatch");
    mismatch.create_dataset<float>("x", {2, 1, 3}).write(std::vector<float>(6, 1.f));
    mismatch.create_dataset<float>("y", {3, 1, 3}).write(std::vector<float>(9, 1.f));
    mismatch.write_dataset("seeds", std::vector<unsigned int>{1, 2});
    const auto no_seeds = file.create_group("no_seeds");
    no_seeds.create_dataset<float>("x", {2, 1, 3}).write(std::vector<float>(6, 1.f));
    no_seeds.create_dataset<float>("y", {2, 1, 3}).write(std::vector<float>(6, 1.f));
  }
  const std::string flat = message_of([&] { mpno::read_set(path, "flat"); });
  EXPECT_NE(flat.find(path.string()), std::string::npos) << flat;
  EXPECT_NE(flat.find("expected x of rank >= 3 [n, in_channels, n_1, ..., n_d], found [6]"), std::string::npos) << flat;
  const std::string mismatch = message_of([&] { mpno::read_set(path, "mismatch"); });
  EXPECT_NE(mismatch.find("set 'mismatch'"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("x [2, 1, 3], found [3, 1, 3]"), std::string::npos) << mismatch;
  const std::string no_seeds = message_of([&] { mpno::read_set(path, "no_seeds"); });
  EXPECT_NE(no_seeds.find("expected a dataset 'seeds', found none"), std::string::npos) << no_seeds;
}


TEST_F(DatasetFile, ToTensorDatasetKeepsTheRowMajorLayout)
{
  const auto set  = make_set("train", {3, 4}, 2, 1, 2);
  const auto data = mpno::to_tensor_dataset(set);
  EXPECT_EQ(data.x.sizes(), (std::vector<int64_t>{2, 2, 3, 4}));
  EXPECT_EQ(data.y.sizes(), (std::vector<int64_t>{2, 1, 3, 4}));
  EXPECT_EQ(data.x.dtype(), torch::kFloat32);
  EXPECT_TRUE(data.x.is_contiguous());
  // Sample 1, channel 0, grid point (2, 3): ((1 * 2 + 0) * 3 + 2) * 4 + 3 = 35.
  EXPECT_EQ(data.x[1][0][2][3].item<float>(), set.x[35]);
  EXPECT_EQ(data.y[1][0][2][1].item<float>(), set.y[(1 * 3 + 2) * 4 + 1]);

  auto bad = set;
  bad.x.pop_back();
  const std::string message = message_of([&] { mpno::to_tensor_dataset(bad); });
  EXPECT_NE(message.find("set 'train': expected x of shape [2, 2, 3, 4]"), std::string::npos) << message;
}


TEST_F(DatasetFile, ExportedPtFileIsReadByLoadPtDataset)
{
  const auto set  = make_set("test_32", {3, 4}, 2, 1, 3);
  const auto path = directory / "test_32.pt";
  mpno::export_pt(set, path);
  const auto loaded   = mpno::load_pt_dataset(path.string(), "x", "y", 2);
  const auto expected = mpno::to_tensor_dataset(set);
  EXPECT_EQ(loaded.x.sizes(), expected.x.sizes());
  EXPECT_EQ(loaded.y.sizes(), expected.y.sizes());
  EXPECT_TRUE(torch::equal(loaded.x, expected.x));
  EXPECT_TRUE(torch::equal(loaded.y, expected.y));
}

namespace
{
  /** A point-cloud set of @p counts.size() instances with counts[k] points in 2D, 1 input
   *  and 1 output channel, 3 latent features on a 3 x 4 latent grid; distinct values. */
  mpno::PointCloudDataSet
  make_cloud_set(const std::string &name, const std::vector<std::size_t> &counts)
  {
    mpno::PointCloudDataSet set;
    set.name                    = name;
    set.dimension               = 2;
    set.in_channels             = 1;
    set.out_channels            = 1;
    set.latent_feature_channels = 3;
    set.latent_shape            = {3, 4};
    for (std::size_t k = 0; k < 12 * 2; ++k)
      set.latent_queries.push_back(k / 16.f);
    for (std::size_t i = 0; i < counts.size(); ++i)
      {
        mpno::PointCloudSample s;
        s.seed = 1000000000 + i;
        for (std::size_t k = 0; k < counts[i] * 2; ++k)
          s.points.push_back(i + k / 64.f);
        for (std::size_t k = 0; k < counts[i]; ++k)
          {
            s.x.push_back(0.25f * k);
            s.y.push_back(-0.5f * k - i);
            s.weights.push_back(1.f / (k + 1));
          }
        for (std::size_t k = 0; k < 12 * 3; ++k)
          s.latent_features.push_back(i - k / 4.f);
        set.samples.push_back(s);
      }
    return set;
  }
} // namespace


TEST_F(DatasetFile, PointCloudSetRoundTripWithDifferentPointCounts)
{
  const auto train = make_cloud_set("train", {5, 9, 7});
  const auto grid  = make_set("test_64", {5}, 2, 3, 2);
  const auto path  = directory / "clouds.h5";
  {
    mpno::DatasetFileWriter writer(path);
    writer.add_point_cloud_set(train);
    writer.add_set(grid);
    writer.close();
  }
  EXPECT_TRUE(mpno::is_point_cloud_set(path, "train"));
  EXPECT_FALSE(mpno::is_point_cloud_set(path, "test_64"));
  const mpno::PointCloudDataSet read = mpno::read_point_cloud_set(path, "train");
  EXPECT_EQ(read.dimension, 2u);
  EXPECT_EQ(read.in_channels, 1u);
  EXPECT_EQ(read.out_channels, 1u);
  EXPECT_EQ(read.latent_feature_channels, 3u);
  EXPECT_EQ(read.latent_shape, train.latent_shape);
  EXPECT_EQ(read.latent_queries, train.latent_queries);
  ASSERT_EQ(read.samples.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    {
      EXPECT_EQ(read.samples[i].seed, train.samples[i].seed);
      EXPECT_EQ(read.samples[i].points, train.samples[i].points);
      EXPECT_EQ(read.samples[i].x, train.samples[i].x);
      EXPECT_EQ(read.samples[i].y, train.samples[i].y);
      EXPECT_EQ(read.samples[i].weights, train.samples[i].weights);
      EXPECT_EQ(read.samples[i].latent_features, train.samples[i].latent_features);
    }
  EXPECT_EQ(mpno::read_point_cloud_set(path, "train", 2).samples.size(), 2u);

  // As GINO inputs: [n_k, d] points, [g_1, g_2, d] latent grid, row-major.
  const mpno::PointCloudDataset tensors = mpno::to_point_cloud_dataset(read);
  ASSERT_EQ(tensors.size(), 3);
  EXPECT_EQ(tensors.inputs[1].input_geom.sizes(), (std::vector<int64_t>{9, 2}));
  EXPECT_EQ(tensors.inputs[1].latent_queries.sizes(), (std::vector<int64_t>{3, 4, 2}));
  EXPECT_EQ(tensors.inputs[1].latent_features.sizes(), (std::vector<int64_t>{3, 4, 3}));
  EXPECT_FLOAT_EQ(tensors.inputs[1].input_geom[4][1].item<float>(), train.samples[1].points[9]);
  EXPECT_FLOAT_EQ(tensors.y[2][6][0].item<float>(), train.samples[2].y[6]);
  EXPECT_NO_THROW(tensors.validate("the set"));

  // A grid reader meets a point-cloud set, and the other way round.
  const std::string as_grid = message_of([&] { mpno::read_set(path, "train"); });
  EXPECT_NE(as_grid.find("a point-cloud set"), std::string::npos) << as_grid;
  const std::string as_cloud = message_of([&] { mpno::read_point_cloud_set(path, "test_64"); });
  EXPECT_NE(as_cloud.find("expected a dataset 'latent_queries'"), std::string::npos) << as_cloud;
  EXPECT_NE(as_cloud.find("a grid set"), std::string::npos) << as_cloud;
}

TEST_F(DatasetFile, PointCloudWriterRejectsInconsistentInstances)
{
  mpno::DatasetFileWriter writer(directory / "bad_clouds.h5");
  auto                    set = make_cloud_set("train", {4, 6});
  set.samples[1].y.pop_back();
  const std::string y = message_of([&] { writer.add_point_cloud_set(set); });
  EXPECT_NE(y.find("point-cloud set 'train', instance 1: expected y [n, out_channels] of size 6 (n = 6 points), "
                   "found 5"),
            std::string::npos)
    << y;
  auto features = make_cloud_set("test", {4});
  features.samples[0].latent_features.resize(5);
  const std::string latent = message_of([&] { writer.add_point_cloud_set(features); });
  EXPECT_NE(latent.find("latent_features"), std::string::npos) << latent;
  const std::string empty = message_of([&] { writer.add_point_cloud_set(make_cloud_set("none", {})); });
  EXPECT_NE(empty.find("expected at least one instance"), std::string::npos) << empty;
}

TEST_F(DatasetFile, PointCloudReadErrorsNameTheFileGroupAndDataset)
{
  const auto path = directory / "clouds.h5";
  {
    mpno::DatasetFileWriter writer(path);
    writer.add_point_cloud_set(make_cloud_set("train", {4, 6}));
    writer.close();
  }
  // Damage copies of the set the way another program might.
  {
    dealii::HDF5::File file(path.string(), dealii::HDF5::File::FileAccessMode::open);
    const auto         missing = file.create_group("missing_instance");
    missing.create_dataset<float>("latent_queries", {3, 4, 2}).write(std::vector<float>(24, 0.f));
    missing.write_dataset("seeds", std::vector<unsigned int>{1, 2});
    const auto item = missing.create_group("000000");
    item.create_dataset<float>("points", {4, 2}).write(std::vector<float>(8, 0.f));
    item.create_dataset<float>("x", {4, 1}).write(std::vector<float>(4, 0.f));
    item.create_dataset<float>("y", {4, 1}).write(std::vector<float>(4, 0.f));
    item.create_dataset<float>("weights", {4}).write(std::vector<float>(4, 1.f));

    const auto shapes = file.create_group("bad_shapes");
    shapes.create_dataset<float>("latent_queries", {3, 4, 2}).write(std::vector<float>(24, 0.f));
    shapes.write_dataset("seeds", std::vector<unsigned int>{1});
    const auto bad = shapes.create_group("000000");
    bad.create_dataset<float>("points", {4, 2}).write(std::vector<float>(8, 0.f));
    bad.create_dataset<float>("x", {4, 1}).write(std::vector<float>(4, 0.f));
    bad.create_dataset<float>("y", {3, 1}).write(std::vector<float>(3, 0.f));
    bad.create_dataset<float>("weights", {4}).write(std::vector<float>(4, 1.f));

    const auto no_weights = file.create_group("no_weights");
    no_weights.create_dataset<float>("latent_queries", {3, 4, 2}).write(std::vector<float>(24, 0.f));
    no_weights.write_dataset("seeds", std::vector<unsigned int>{1});
    const auto w = no_weights.create_group("000000");
    w.create_dataset<float>("points", {4, 2}).write(std::vector<float>(8, 0.f));
    w.create_dataset<float>("y", {4, 1}).write(std::vector<float>(4, 0.f));

    const auto latent = file.create_group("bad_latent");
    latent.create_dataset<float>("latent_queries", {3, 4, 3}).write(std::vector<float>(36, 0.f));
    latent.write_dataset("seeds", std::vector<unsigned int>{1});
  }
  const std::string no_set = message_of([&] { mpno::read_point_cloud_set(path, "test_32"); });
  EXPECT_NE(no_set.find(path.string()), std::string::npos) << no_set;
  EXPECT_NE(no_set.find("no such set; the sets present are ["), std::string::npos) << no_set;
  const std::string missing = message_of([&] { mpno::read_point_cloud_set(path, "missing_instance"); });
  EXPECT_NE(missing.find("instance group 'missing_instance/000001': missing"), std::string::npos) << missing;
  const std::string shapes = message_of([&] { mpno::read_point_cloud_set(path, "bad_shapes"); });
  EXPECT_NE(shapes.find("instance group 'bad_shapes/000000': expected y [4, channels >= 1]"), std::string::npos)
    << shapes;
  EXPECT_NE(shapes.find("found [3, 1]"), std::string::npos) << shapes;
  const std::string weights = message_of([&] { mpno::read_point_cloud_set(path, "no_weights"); });
  EXPECT_NE(weights.find("'no_weights/000000': expected a dataset 'weights', found none"), std::string::npos)
    << weights;
  const std::string bad_latent = message_of([&] { mpno::read_point_cloud_set(path, "bad_latent"); });
  EXPECT_NE(bad_latent.find("expected latent_queries [g_1, ..., g_d, d] (last axis d = rank - 1), found [3, 4, 3]"),
            std::string::npos)
    << bad_latent;
}
