#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * One named set of input/output pairs on a uniform grid (see GridTransfer for the grid):
   * x [n_samples, in_channels, n_1, ..., n_d], y [n_samples, out_channels, n_1, ..., n_d],
   * float32, row-major (last axis fastest); seeds[i] is the random seed instance i was drawn from.
   */
  struct GridDataSet
  {
    /** The set's name, a group of the file, e.g. "train", "test_32", "test_64". */
    std::string name;
    /** n_1, ..., n_d. */
    std::vector<unsigned int>  grid_shape;
    unsigned int               in_channels  = 0;
    unsigned int               out_channels = 0;
    std::vector<float>         x;
    std::vector<float>         y;
    std::vector<std::uint64_t> seeds;

    /** seeds.size(). */
    std::size_t
    n_samples() const;
    /** The product of grid_shape. */
    std::size_t
    points_per_sample() const;
  };

  /**
   * One instance of a point-cloud set (a geometry of its own, method.md Sec. 4.3): n
   * points in d dimensions, float32, row-major.
   */
  struct PointCloudSample
  {
    /** The random seed the instance was drawn from. */
    std::uint64_t seed = 0;
    /** [n, d] the point coordinates (the DoFs' support points; input and output points). */
    std::vector<float> points;
    /** [n, in_channels] the input fields at the points. */
    std::vector<float> x;
    /** [n, out_channels] the solution at the points. */
    std::vector<float> y;
    /** [n] quadrature weights of the discrete L2 norm (the lumped mass int phi_i). */
    std::vector<float> weights;
    /** [g_1, ..., g_d, latent_feature_channels] the geometry on the set's latent grid. */
    std::vector<float> latent_features;
  };

  /**
   * A named set of point-cloud instances of different point counts that share a latent
   * grid (GINO's input layout without the batch axis, GINOInput).
   */
  struct PointCloudDataSet
  {
    /** The set's name, a group of the file, e.g. "train", "test_32". */
    std::string name;
    /** The dimension d of the points. */
    unsigned int dimension               = 2;
    unsigned int in_channels             = 0;
    unsigned int out_channels            = 0;
    unsigned int latent_feature_channels = 0;
    /** g_1, ..., g_d. */
    std::vector<unsigned int> latent_shape;
    /** [g_1, ..., g_d, d] the latent grid's coordinates. */
    std::vector<float>            latent_queries;
    std::vector<PointCloudSample> samples;

    /** The product of latent_shape. */
    std::size_t
    latent_points() const;
  };

  /** Whether the set @p name of the dataset file @p path is a point-cloud set (it has a
   *  dataset `latent_queries`). @throws std::runtime_error as list_sets(). */
  bool
  is_point_cloud_set(const std::filesystem::path &path, const std::string &name);

  /**
   * The point-cloud set @p name of the dataset file @p path, its first @p max_samples
   * instances (0: all); the layout of DatasetFileWriter::add_point_cloud_set().
   * @throws std::runtime_error naming the file, the set, the instance group and the
   *   dataset for anything missing or mis-shaped (expected vs found): no such set
   *   (listing those present), no `latent_queries` [g_1, ..., g_d, d] or `seeds` [n], an
   *   instance group missing, `points` not [n_k, d], `x` not [n_k, in_channels] (the
   *   channels of the first instance), `y` not [n_k, out_channels], `weights` not [n_k],
   *   `latent_features` not [g_1, ..., g_d, k].
   */
  PointCloudDataSet
  read_point_cloud_set(const std::filesystem::path &path, const std::string &name, std::size_t max_samples = 0);

  /**
   * Writer of a dataset file (HDF5, design.md "Data flow of the main job"): per set the
   * datasets `/NAME/x` float32 [n, in_channels, n_1, ..., n_d], `/NAME/y` float32
   * [n, out_channels, n_1, ..., n_d] and `/NAME/seeds` uint64 [n], and string attributes
   * on the root group (e.g. the problem's name and parameters); h5py reads it directly.
   *
   * The file is written as PATH.tmp and renamed onto PATH by close(), so that an
   * interrupted run never leaves a partial PATH; the destructor without close() removes
   * the temporary. Each set is written at once (it is held in memory anyway).
   */
  class DatasetFileWriter
  {
  public:
    /** Creates (truncates) PATH.tmp. @throws dealii::ExcMessage naming the file if it cannot be created. */
    explicit DatasetFileWriter(const std::filesystem::path &path);
    /** Removes PATH.tmp unless close() has run; never throws. */
    ~DatasetFileWriter();

    DatasetFileWriter(const DatasetFileWriter &) = delete;
    DatasetFileWriter &
    operator=(const DatasetFileWriter &) = delete;

    /** A string attribute of the root group; written by close(), a second call for @p key replaces the value. */
    void
    set_attribute(const std::string &key, const std::string &value);

    /**
     * Writes @p set as the group `/NAME`.
     * @throws dealii::ExcMessage naming the set if its name is empty, contains '/' or is
     *   already in the file, if it has no samples, a grid axis of size 0, a channel count
     *   of 0, x or y not of size n_samples * channels * points_per_sample(), or if HDF5
     *   fails; after close().
     */
    void
    add_set(const GridDataSet &set);

    /**
     * Writes the point-cloud @p set as the group `/NAME` with the datasets
     * `latent_queries` float32 [g_1, ..., g_d, d] and `seeds` uint64 [n], and per
     * instance k a group `/NAME/NNNNNN` (k with six digits) holding `points` [n_k, d],
     * `x` [n_k, in_channels], `y` [n_k, out_channels], `weights` [n_k] and
     * `latent_features` [g_1, ..., g_d, latent_feature_channels], all float32.
     * @throws dealii::ExcMessage naming the set (and the instance) for a bad name (as
     *   add_set()), no instances, d of 0, an empty latent grid, latent_queries not of
     *   size latent_points() * d, or an instance whose arrays disagree with its point
     *   count (points.size() / d) or the channels; HDF5 failures; after close().
     */
    void
    add_point_cloud_set(const PointCloudDataSet &set);

    /**
     * Writes the attributes, closes PATH.tmp, syncs it to disk and renames it onto PATH.
     * @throws dealii::ExcMessage naming the file if HDF5 fails, std::runtime_error if
     *   the rename fails; after a first close().
     */
    void
    close();

  private:
    class Impl;
    std::unique_ptr<Impl> impl;
  };

  /**
   * The names of the sets (root groups) in the dataset file @p path, sorted.
   * @throws std::runtime_error naming the file if it is missing or not an HDF5 file.
   */
  std::vector<std::string>
  list_sets(const std::filesystem::path &path);

  /**
   * The set @p name of the dataset file @p path, its first @p max_samples samples (0: all).
   * The file is opened read-only, so several processes may read it at once.
   * @throws std::runtime_error naming the file and the set if the file is missing or not
   *   HDF5, the set is missing (listing the sets present), x, y or seeds is missing, or
   *   their ranks or shapes disagree (expected vs found).
   */
  GridDataSet
  read_set(const std::filesystem::path &path, const std::string &name, std::size_t max_samples = 0);

  /**
   * The string attributes of the root group of the dataset file @p path (others are skipped).
   * @throws std::runtime_error naming the file if it is missing or not an HDF5 file.
   */
  std::map<std::string, std::string>
  read_attributes(const std::filesystem::path &path);
} // namespace mpno
