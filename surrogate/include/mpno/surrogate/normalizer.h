#pragma once

#include <torch/serialize/archive.h>
#include <torch/types.h>

namespace mpno
{
  /**
   * neuraloperator's `UnitGaussianNormalizer`: encode(x) = (x - mean) / (std + eps),
   * decode(z) = z (std + eps) + mean, with mean and std per channel over the batch and
   * spatial axes of the training data (shape [1, channels, 1, ..., 1], float32).
   */
  class UnitGaussianNormalizer
  {
  public:
    explicit UnitGaussianNormalizer(double eps = 1e-7);

    /**
     * Fit on x [samples, channels, n_1, ..., n_d] (float32, d >= 1).
     * @throws std::invalid_argument for rank < 3 or an empty tensor.
     */
    void
    fit(const torch::Tensor &x);

    bool
    fitted() const
    {
      return mean_.defined();
    }

    /** @throws std::logic_error if not fitted; std::invalid_argument on a channel mismatch. */
    torch::Tensor
    encode(const torch::Tensor &x) const;
    torch::Tensor
    decode(const torch::Tensor &z) const;

    const torch::Tensor &
    mean() const
    {
      return mean_;
    }
    const torch::Tensor &
    std() const
    {
      return std_;
    }

    /** Move the statistics to @p device (encode() and decode() work on any device, but
     *  copy statistics that live elsewhere on every call). */
    void
    to(const torch::Device &device);

    /** Store mean, std (as CPU tensors) and eps under @p prefix in the archive. */
    void
    save(torch::serialize::OutputArchive &archive, const std::string &prefix) const;
    /** The statistics come back on the device the archive was loaded to.
     *  @throws c10::Error / std::invalid_argument if the keys are missing. */
    void
    load(torch::serialize::InputArchive &archive, const std::string &prefix);

  private:
    double        eps_;
    torch::Tensor mean_;
    torch::Tensor std_;
  };
} // namespace mpno
