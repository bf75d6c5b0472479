// A trained neural operator as a deal.II program sees it: grid values in, grid values out,
// no LibTorch type in the interface (design.md "Three libraries").
#pragma once

#include <mpno/coupling/dataset_file.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * A neural operator loaded from a checkpoint directory written by `mpno train` (model,
   * precision policy and normalisers; see mpno::load_model()), for inference on uniform
   * grids of any resolution (zero-shot super-resolution for FNOs).
   */
  class SurrogateModel
  {
  public:
    /**
     * Load the checkpoint in @p checkpoint_directory onto @p device ("cpu", "cuda", or
     * "auto": cuda when LibTorch sees a CUDA device, else cpu).
     * @throws std::runtime_error naming the directory and what is missing or bad.
     */
    explicit SurrogateModel(const std::filesystem::path &checkpoint_directory, const std::string &device = "cpu");

    ~SurrogateModel();
    SurrogateModel(SurrogateModel &&) noexcept;
    SurrogateModel &
    operator=(SurrogateModel &&) noexcept;

    /** Input and output channels; 0 when the model does not say (not an FNO). */
    unsigned int
    n_input_channels() const;
    unsigned int
    n_output_channels() const;

    /** sqrt(mean^2 + std^2) of input channel @p channel over the training data (from the
     *  input normaliser): the root-mean-square size of the inputs the model has seen;
     *  NaN when the checkpoint has no input normaliser. @throws std::out_of_range for a
     *  channel the normaliser does not have. */
    double
    input_rms(unsigned int channel) const;

    /** A point-cloud model's latent grid of training, points per axis (e.g. {32, 32});
     *  empty for grid models and checkpoints that do not record it. */
    std::vector<unsigned int>
    latent_grid_shape() const;

    /** The model's name, its parameter count and its precision policy, one line. */
    std::string
    description() const;

    /**
     * The prediction for one input.
     * @param input [in_channels, n_1, ..., n_d] row-major (last axis fastest).
     * @param grid_shape n_1, ..., n_d.
     * @return [out_channels, n_1, ..., n_d] row-major, in the output's physical units.
     * @throws std::invalid_argument naming the sizes if input.size() is not a multiple
     *   of the grid's size or the channels differ from the model's.
     */
    std::vector<float>
    predict(const std::vector<float> &input, const std::vector<unsigned int> &grid_shape) const;

    /**
     * The prediction of a point-cloud model (GINO, method.md Sec. 4.3) for the instance
     * @p sample in the layout of @p layout (dimension, channels, latent grid): its
     * points, input values and latent features (its y is not read).
     * @return [n, out_channels] row-major at the sample's points, physical units.
     * @throws std::invalid_argument if the model is not a point-cloud model, the
     *   arrays do not fit the layout or the layout's latent grid is not
     *   latent_grid_shape().
     */
    std::vector<float>
    predict(const PointCloudDataSet &layout, const PointCloudSample &sample) const;

    /** The LibTorch side (surrogate_model_impl.h in coupling/source). */
    struct Impl;
    /** Wrap an existing model (tests, programs that build their own). */
    explicit SurrogateModel(std::unique_ptr<Impl> impl);

  private:
    std::unique_ptr<Impl> impl;
  };
} // namespace mpno
