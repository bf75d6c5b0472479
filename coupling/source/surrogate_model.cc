#include <mpno/coupling/surrogate_model.h>

#include "dataset_tensors.h"
#include "surrogate_model_impl.h"

#include <mpno/surrogate/fno.h>

#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace mpno
{
  SurrogateModel::SurrogateModel(const std::filesystem::path &checkpoint_directory, const std::string &device)
    : impl(std::make_unique<Impl>())
  {
    try
      {
        const bool cuda = device == "cuda" || (device == "auto" && torch::cuda::is_available());
        if (device == "cuda" && !torch::cuda::is_available())
          throw std::runtime_error("cannot load the surrogate onto cuda: CUDA is not available to LibTorch");
        impl->loaded =
          load_model(checkpoint_directory, cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU));
      }
    catch (const c10::Error &error)
      {
        throw std::runtime_error("cannot load the surrogate from '" + checkpoint_directory.string() +
                                 "': " + error.what_without_backtrace());
      }
  }

  SurrogateModel::SurrogateModel(std::unique_ptr<Impl> impl_)
    : impl(std::move(impl_))
  {
    if (!impl || !impl->loaded.model)
      throw std::invalid_argument("SurrogateModel: no model given");
  }

  SurrogateModel::~SurrogateModel()                          = default;
  SurrogateModel::SurrogateModel(SurrogateModel &&) noexcept = default;
  SurrogateModel &
  SurrogateModel::operator=(SurrogateModel &&) noexcept = default;

  namespace
  {
    const FNOImpl *
    as_fno(const LoadedModel &loaded)
    {
      return dynamic_cast<const FNOImpl *>(loaded.model.get());
    }
  } // namespace

  std::vector<unsigned int>
  SurrogateModel::latent_grid_shape() const
  {
    return {impl->loaded.latent_shape.begin(), impl->loaded.latent_shape.end()};
  }

  std::vector<float>
  SurrogateModel::predict(const PointCloudDataSet &layout, const PointCloudSample &sample) const
  {
    const torch::Tensor prediction = impl->loaded.predict(to_gino_input(layout, sample)).contiguous();
    return std::vector<float>(prediction.data_ptr<float>(), prediction.data_ptr<float>() + prediction.numel());
  }

  unsigned int
  SurrogateModel::n_input_channels() const
  {
    const FNOImpl *fno = as_fno(impl->loaded);
    return fno ? static_cast<unsigned int>(fno->options().in_channels) : 0;
  }

  double
  SurrogateModel::input_rms(const unsigned int channel) const
  {
    const auto &normalizer = impl->loaded.input_normalizer;
    if (!normalizer || !normalizer->fitted())
      return std::nan("");
    const torch::Tensor mean = normalizer->mean().to(torch::kCPU, torch::kFloat64).flatten();
    const torch::Tensor std  = normalizer->std().to(torch::kCPU, torch::kFloat64).flatten();
    if (channel >= mean.numel() || channel >= std.numel())
      throw std::out_of_range("SurrogateModel::input_rms: the input normaliser has " + std::to_string(mean.numel()) +
                              " channels, asked for channel " + std::to_string(channel));
    const double m = mean[channel].item<double>(), s = std[channel].item<double>();
    return std::sqrt(m * m + s * s);
  }

  unsigned int
  SurrogateModel::n_output_channels() const
  {
    const FNOImpl *fno = as_fno(impl->loaded);
    return fno ? static_cast<unsigned int>(fno->options().out_channels) : 0;
  }

  std::string
  SurrogateModel::description() const
  {
    long long n = 0;
    for (const auto &p : impl->loaded.model->parameters())
      n += p.numel();
    std::ostringstream out;
    out << impl->loaded.model->model_name() << ", " << n << " parameters, epoch " << impl->loaded.epoch << ", "
        << impl->loaded.model->precision().describe(impl->loaded.device);
    return out.str();
  }

  std::vector<float>
  SurrogateModel::predict(const std::vector<float> &input, const std::vector<unsigned int> &grid_shape) const
  {
    std::vector<int64_t> shape{1, 0};
    int64_t              points = 1;
    for (const unsigned int n : grid_shape)
      {
        shape.push_back(n);
        points *= n;
      }
    const int64_t in = n_input_channels();
    if (points == 0 || input.size() % points != 0 || (in != 0 && static_cast<int64_t>(input.size()) != in * points))
      throw std::invalid_argument("SurrogateModel::predict: input has " + std::to_string(input.size()) +
                                  " values, expected " + (in ? std::to_string(in) : std::string("a multiple of")) +
                                  " x " + std::to_string(points) + " (channels x grid points)");
    shape[1] = static_cast<int64_t>(input.size()) / points;
    torch::NoGradGuard  no_grad;
    const torch::Tensor x = torch::from_blob(const_cast<float *>(input.data()), shape, torch::kFloat32);
    torch::Tensor       y;
    try
      {
        y = impl->loaded.predict(x).to(torch::kCPU, torch::kFloat32).contiguous();
      }
    catch (const c10::Error &error)
      {
        throw std::runtime_error(std::string("SurrogateModel::predict: ") + error.what_without_backtrace());
      }
    return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
  }
} // namespace mpno
