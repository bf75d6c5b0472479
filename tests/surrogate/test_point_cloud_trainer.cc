// The point-cloud path of Trainer (GINO on instances of different point counts): the
// weighted relative L2, dataset validation, a short training whose loss falls, the
// checkpoint reloaded by load_model() with the same test errors and predictions, and the
// refusals (another model, another loss).
#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/gino.h>
#include <mpno/surrogate/point_cloud_dataset.h>
#include <mpno/surrogate/trainer.h>

#include "trainer_test_utils.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>

using namespace mpno;

namespace
{
  /** The latent grid linspace(0, 1, g)^2, [g, g, 2]. */
  torch::Tensor
  latent_grid_2d(const int64_t g)
  {
    std::vector<torch::Tensor> axes(2, torch::linspace(0., 1., g));
    return torch::stack(torch::meshgrid(axes, "ij"), -1);
  }

  /** @p n instances of 60-120 random points in [0, 1]^2, x = sin(2 pi p_0), y = x + p_1,
   *  weights uniform, the coordinates as latent features on an 8^2 grid. */
  PointCloudDataset
  synthetic_clouds(const int64_t n, const int64_t seed)
  {
    torch::manual_seed(seed);
    PointCloudDataset data;
    for (int64_t k = 0; k < n; ++k)
      {
        const int64_t points = 60 + torch::randint(61, {1}).item<int64_t>();
        GINOInput     input;
        input.input_geom      = torch::rand({points, 2});
        input.output_queries  = input.input_geom;
        input.latent_queries  = latent_grid_2d(8);
        input.latent_features = input.latent_queries.clone();
        input.x               = torch::sin(2 * M_PI * input.input_geom.slice(1, 0, 1));
        data.inputs.push_back(input);
        data.y.push_back(input.x + input.input_geom.slice(1, 1, 2));
        data.weights.push_back(torch::full({points}, 1. / points));
      }
    return data;
  }

  GINOOptions
  small_gino()
  {
    GINOOptions options;
    options.gno_coord_dim                     = 2;
    options.in_channels                       = 1;
    options.in_gno_transform_type             = "linear";
    options.latent_feature_channels           = 2;
    options.in_gno_radius                     = 0.2;
    options.out_gno_radius                    = 0.2;
    options.gno_embed_channels                = 4;
    options.in_gno_channel_mlp_hidden_layers  = {16};
    options.out_gno_channel_mlp_hidden_layers = {16};
    options.fno_n_modes                       = {4, 4};
    options.fno_hidden_channels               = 8;
    options.fno_n_layers                      = 2;
    options.projection_channels               = 16;
    return options;
  }

  std::string
  message_of(const std::function<void()> &f)
  {
    try
      {
        f();
      }
    catch (const std::exception &error)
      {
        return error.what();
      }
    return "";
  }
} // namespace

TEST(PointCloudTrainer, WeightedRelativeL2)
{
  const auto target     = torch::tensor({1., 2., 0.}).unsqueeze(1);
  const auto prediction = torch::tensor({1., 1., 1.}).unsqueeze(1);
  const auto weights    = torch::tensor({1., 2., 3.});
  // sqrt((0 + 2 * 1 + 3 * 1) / (1 + 2 * 4)) = sqrt(5 / 9)
  EXPECT_NEAR(weighted_relative_l2(prediction, target, weights).item<double>(), std::sqrt(5. / 9.), 1e-7);
}

TEST(PointCloudTrainer, ValidateNamesTheInstance)
{
  PointCloudDataset data = synthetic_clouds(3, 0);
  EXPECT_NO_THROW(data.validate("the training data"));
  data.y[1]           = data.y[1].slice(0, 1);
  const std::string y = message_of([&] { data.validate("the training data"); });
  EXPECT_NE(y.find("the training data, instance 1: y must be ["), std::string::npos) << y;
  data                          = synthetic_clouds(3, 0);
  data.inputs[2].latent_queries = latent_grid_2d(4);
  const std::string latent      = message_of([&] { data.validate("test set '32'"); });
  EXPECT_NE(latent.find("test set '32', instance 2: its latent grid differs"), std::string::npos) << latent;
  EXPECT_EQ(data.head(2).size(), 2);
}

TEST(PointCloudTrainer, TrainsAndTheCheckpointGivesTheSameErrors)
{
  torch::set_num_threads(1);
  mpno_test::ScratchDirectory          directory("point_cloud");
  const PointCloudDataset              train = synthetic_clouds(12, 1);
  const std::vector<PointCloudTestSet> tests{{"8", synthetic_clouds(4, 2)}};
  torch::manual_seed(3);
  PrecisionPolicy precision;
  precision.spectral_precision = SpectralPrecision::mixed;
  precision.stabilizer         = Stabilizer::tanh;
  TrainerOptions options;
  options.epochs        = 12;
  options.batch_size    = 4;
  options.learning_rate = 1e-2;
  options.training_loss = "l2";
  options.scheduler     = "none";
  Trainer trainer(std::make_shared<GINOImpl>(small_gino(), precision), options, directory.path);
  trainer.set_normalizers(true, true);
  const auto records = trainer.train(train, tests);
  ASSERT_EQ(records.size(), 12u);
  EXPECT_LT(records.back().train_loss, 0.7 * records.front().train_loss);
  EXPECT_TRUE(std::isnan(records.back().test_errors.at("8").h1));
  const double l2 = records.back().test_errors.at("8").l2;
  EXPECT_GT(l2, 0.);
  EXPECT_LT(l2, 1.);
  EXPECT_NEAR(trainer.evaluate(tests).at("8").l2, l2, 1e-12);

  const LoadedModel loaded = load_model(directory.path / "checkpoint");
  EXPECT_EQ(loaded.model->model_name(), "gino");
  EXPECT_EQ(loaded.epoch, 12);
  EXPECT_NEAR(loaded.evaluate(tests).at("8").l2, l2, 1e-6);
  const torch::Tensor prediction = loaded.predict(tests[0].data.inputs[0]);
  EXPECT_EQ(prediction.sizes(), tests[0].data.y[0].sizes());
  EXPECT_LT(weighted_relative_l2(prediction, tests[0].data.y[0], tests[0].data.weights[0]).item<double>(), 1.);

  // The checkpoint records the latent grid (8^2); another one is refused everywhere.
  EXPECT_EQ(loaded.latent_shape, (std::vector<int64_t>{8, 8}));
  std::vector<PointCloudTestSet> coarse_tests = tests;
  for (GINOInput &input : coarse_tests[0].data.inputs)
    {
      input.latent_queries  = latent_grid_2d(4);
      input.latent_features = input.latent_queries.clone();
      input.in_neighbors = input.out_neighbors = {};
    }
  const GINOInput &coarse         = coarse_tests[0].data.inputs[0];
  const auto       expect_refused = [](const std::function<void()> &call, const std::string &what) {
    try
      {
        call();
        ADD_FAILURE() << what << ": expected std::invalid_argument";
      }
    catch (const std::invalid_argument &error)
      {
        EXPECT_NE(std::string(error.what()).find("the latent grid [4, 4] differs from the latent grid [8, 8]"),
                  std::string::npos)
          << what << ": " << error.what();
      }
  };
  expect_refused([&] { loaded.predict(coarse); }, "LoadedModel::predict");
  expect_refused([&] { loaded.evaluate(coarse_tests); }, "LoadedModel::evaluate");
  expect_refused([&] { trainer.evaluate(coarse_tests); }, "Trainer::evaluate");
}

TEST(PointCloudTrainer, RefusesOtherModelsAndLosses)
{
  torch::set_num_threads(1);
  const PointCloudDataset train = synthetic_clouds(2, 4);
  TrainerOptions          options;
  options.epochs        = 1;
  options.training_loss = "l2";
  Trainer           fno(std::make_shared<FNOImpl>(mpno_test::small_fno()), options, "");
  const std::string model = message_of([&] { fno.train(train, {}); });
  EXPECT_NE(model.find("point-cloud data need the model gino, not fno"), std::string::npos) << model;
  options.training_loss = "h1";
  Trainer           gino(std::make_shared<GINOImpl>(small_gino()), options, "");
  const std::string loss = message_of([&] { gino.train(train, {}); });
  EXPECT_NE(loss.find("training loss 'h1' has no point-cloud form; use l2"), std::string::npos) << loss;
}
