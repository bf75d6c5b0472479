#include <mpno/surrogate/io_utils.h>
#include <mpno/surrogate/normalizer.h>

#include <torch/serialize.h>
#include <torch/torch.h>

#include <stdexcept>

namespace mpno
{
  using io::shape_to_string;

  UnitGaussianNormalizer::UnitGaussianNormalizer(double eps)
    : eps_(eps)
  {
  }

  void
  UnitGaussianNormalizer::fit(const torch::Tensor &x)
  {
    if (!x.defined() || x.dim() < 3 || x.numel() == 0)
      throw std::invalid_argument(
        "UnitGaussianNormalizer::fit: expected a non-empty [samples, channels, n_1, ..., n_d] "
        "tensor (rank >= 3), found shape " +
        (x.defined() ? shape_to_string(x.sizes()) : std::string("undefined")));
    std::vector<int64_t> axes{0};
    for (int64_t axis = 2; axis < x.dim(); ++axis)
      axes.push_back(axis);
    // Accumulated in float64: 10^7 float32 values would lose digits of the mean.
    // The population standard deviation, as neuraloperator's fit (sqrt(E[x^2] - E[x]^2)).
    const auto data = x.detach().to(torch::kFloat64);
    mean_           = data.mean(axes, /*keepdim=*/true).to(torch::kFloat32);
    std_            = data.std(axes, /*unbiased=*/false, /*keepdim=*/true).to(torch::kFloat32);
  }

  torch::Tensor
  UnitGaussianNormalizer::encode(const torch::Tensor &x) const
  {
    if (!fitted())
      throw std::logic_error("UnitGaussianNormalizer::encode: call fit() or load() first");
    if (x.dim() != mean_.dim() || x.size(1) != mean_.size(1))
      throw std::invalid_argument("UnitGaussianNormalizer::encode: expected rank " + std::to_string(mean_.dim()) +
                                  " with " + std::to_string(mean_.size(1)) + " channels, found shape " +
                                  shape_to_string(x.sizes()));
    return (x - mean_.to(x.device())) / (std_.to(x.device()) + eps_);
  }

  torch::Tensor
  UnitGaussianNormalizer::decode(const torch::Tensor &z) const
  {
    if (!fitted())
      throw std::logic_error("UnitGaussianNormalizer::decode: call fit() or load() first");
    if (z.dim() != mean_.dim() || z.size(1) != mean_.size(1))
      throw std::invalid_argument("UnitGaussianNormalizer::decode: expected rank " + std::to_string(mean_.dim()) +
                                  " with " + std::to_string(mean_.size(1)) + " channels, found shape " +
                                  shape_to_string(z.sizes()));
    return z * (std_.to(z.device()) + eps_) + mean_.to(z.device());
  }

  void
  UnitGaussianNormalizer::to(const torch::Device &device)
  {
    if (fitted())
      {
        mean_ = mean_.to(device);
        std_  = std_.to(device);
      }
  }

  void
  UnitGaussianNormalizer::save(torch::serialize::OutputArchive &archive, const std::string &prefix) const
  {
    if (!fitted())
      throw std::logic_error("UnitGaussianNormalizer::save: nothing to save before fit()");
    archive.write(prefix + ".mean", mean_.cpu());
    archive.write(prefix + ".std", std_.cpu());
    archive.write(prefix + ".eps", c10::IValue(eps_));
  }

  void
  UnitGaussianNormalizer::load(torch::serialize::InputArchive &archive, const std::string &prefix)
  {
    torch::Tensor mean, std;
    c10::IValue   eps;
    for (const auto &[key, found] : {std::pair{".mean", archive.try_read(prefix + ".mean", mean)},
                                     std::pair{".std", archive.try_read(prefix + ".std", std)},
                                     std::pair{".eps", archive.try_read(prefix + ".eps", eps)}})
      if (!found)
        throw std::invalid_argument("UnitGaussianNormalizer::load: key '" + prefix + key +
                                    "' not found in the archive");
    if (!eps.isDouble() || mean.dim() < 3 || mean.sizes() != std.sizes() || mean.size(0) != 1)
      throw std::invalid_argument("UnitGaussianNormalizer::load: '" + prefix + "' holds no valid normalizer (mean " +
                                  shape_to_string(mean.sizes()) + ", std " + shape_to_string(std.sizes()) + ", eps " +
                                  eps.tagKind() + ")");
    mean_ = mean.to(torch::kFloat32);
    std_  = std.to(torch::kFloat32);
    eps_  = eps.toDouble();
  }
} // namespace mpno
