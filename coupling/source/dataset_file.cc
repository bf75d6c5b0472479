#include <deal.II/base/exceptions.h>
#include <deal.II/base/hdf5.h>

#include <mpno/coupling/dataset_file.h>
#include <mpno/surrogate/io_utils.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <set>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <utility>

namespace mpno
{
  namespace
  {
    /**
     * While alive, failures of HDF5 calls are recorded here instead of printed to
     * stderr. deal.II 9.4's HDF5 wrappers check return codes only with Assert (Debug
     * builds), so this is how a failed write is noticed in Release. HDF5's error
     * handler is global: one trap at a time, in one thread.
     */
    class ErrorTrap
    {
    public:
      ErrorTrap()
      {
        H5Eget_auto2(H5E_DEFAULT, &old_function, &old_data);
        H5Eset_auto2(H5E_DEFAULT, &record, this);
      }
      ~ErrorTrap()
      {
        H5Eset_auto2(H5E_DEFAULT, old_function, old_data);
      }
      ErrorTrap(const ErrorTrap &) = delete;
      ErrorTrap &
      operator=(const ErrorTrap &) = delete;

      /** The first failure since the last call ("" if none), e.g. "H5Dwrite: ...: file write failed". */
      std::string
      take_error()
      {
        return std::exchange(first_error, std::string());
      }

    private:
      static herr_t
      record(hid_t stack, void *trap)
      {
        auto &error = static_cast<ErrorTrap *>(trap)->first_error;
        if (error.empty())
          H5Ewalk2(stack, H5E_WALK_DOWNWARD, &describe, &error);
        return 0;
      }
      static herr_t
      describe(unsigned int n, const H5E_error2_t *entry, void *text)
      {
        auto &error = *static_cast<std::string *>(text);
        error += (n == 0 ? std::string(entry->func_name) : std::string()) + ": " + entry->desc;
        return 0;
      }

      H5E_auto2_t old_function = nullptr;
      void       *old_data     = nullptr;
      std::string first_error;
    };

    /** An HDF5 identifier closed by @p close on destruction (if valid). */
    class Handle
    {
    public:
      Handle(hid_t id, herr_t (*close)(hid_t))
        : id(id)
        , close(close)
      {
      }
      Handle(Handle &&other) noexcept
        : id(std::exchange(other.id, -1))
        , close(other.close)
      {
      }
      ~Handle()
      {
        if (id >= 0)
          close(id);
      }
      operator hid_t() const
      {
        return id;
      }

    private:
      hid_t id;
      herr_t (*close)(hid_t);
    };

    /** The HDF5 identifier behind a deal.II HDF5 object (which has no public accessor). */
    struct HandleOf : dealii::HDF5::HDF5Object
    {
      static hid_t
      get(const dealii::HDF5::HDF5Object &object)
      {
        return *(object.*(&HandleOf::hdf5_reference));
      }
    };

    std::string
    quoted(const std::filesystem::path &path)
    {
      return "'" + path.string() + "'";
    }

    std::string
    to_string(const std::vector<hsize_t> &dimensions)
    {
      std::string text;
      for (const auto d : dimensions)
        text += (text.empty() ? "" : ", ") + std::to_string(d);
      return "[" + text + "]";
    }

    /** @p path opened read-only. @throws std::runtime_error (from @p where) if missing or not HDF5. */
    Handle
    open_read_only(const std::filesystem::path &path, ErrorTrap &trap, const std::string &where)
    {
      if (!std::filesystem::is_regular_file(path))
        throw std::runtime_error(where + ": no such file");
      Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
      if (file < 0)
        throw std::runtime_error(where + ": cannot open the file as HDF5 (" + trap.take_error() + ")");
      return file;
    }

    /** The names of the groups directly under the root of @p file, sorted. */
    std::vector<std::string>
    group_names(hid_t file)
    {
      std::vector<std::string> names;
      H5G_info_t               info;
      if (H5Gget_info(file, &info) < 0)
        return names;
      for (hsize_t i = 0; i < info.nlinks; ++i)
        {
          const ssize_t length = H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
          if (length < 0)
            continue;
          std::string name(length, '\0');
          H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), length + 1, H5P_DEFAULT);
          const Handle object(H5Oopen(file, name.c_str(), H5P_DEFAULT), H5Oclose);
          if (object >= 0 && H5Iget_type(object) == H5I_GROUP)
            names.push_back(name);
        }
      std::sort(names.begin(), names.end());
      return names;
    }

    /** The shape of the dataset @p name of @p group. @throws std::runtime_error if it is missing. */
    std::vector<hsize_t>
    shape_of(hid_t group, const std::string &name, const std::string &where)
    {
      if (H5Lexists(group, name.c_str(), H5P_DEFAULT) <= 0)
        throw std::runtime_error(where + ": expected a dataset '" + name + "', found none");
      const Handle         dataset(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
      const Handle         space(H5Dget_space(dataset), H5Sclose);
      std::vector<hsize_t> dimensions(std::max(H5Sget_simple_extent_ndims(space), 0));
      H5Sget_simple_extent_dims(space, dimensions.data(), nullptr);
      return dimensions;
    }

    /** The first @p n entries along axis 0 of the dataset @p name of @p group, converted to @p memory_type. */
    template <typename T>
    std::vector<T>
    read_leading(hid_t group, const std::string &name, std::vector<hsize_t> count, hsize_t n, hid_t memory_type)
    {
      count[0]            = n;
      const hsize_t  size = std::accumulate(count.begin(), count.end(), hsize_t(1), std::multiplies<hsize_t>());
      std::vector<T> data(size);
      const std::vector<hsize_t> offset(count.size(), 0);
      const Handle               dataset(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
      const Handle               file_space(H5Dget_space(dataset), H5Sclose);
      H5Sselect_hyperslab(file_space, H5S_SELECT_SET, offset.data(), nullptr, count.data(), nullptr);
      const Handle memory_space(H5Screate_simple(1, &size, nullptr), H5Sclose);
      H5Dread(dataset, memory_type, memory_space, file_space, H5P_DEFAULT, data.data());
      return data;
    }
    /** The dataset `seeds` uint64 [n] of @p group (deal.II's wrappers have no 64-bit integers). */
    void
    write_seeds(const dealii::HDF5::Group &group, const std::vector<std::uint64_t> &values)
    {
      const hsize_t n = values.size();
      const Handle  space(H5Screate_simple(1, &n, nullptr), H5Sclose);
      const Handle  seeds(
        H5Dcreate2(HandleOf::get(group), "seeds", H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        H5Dclose);
      H5Dwrite(seeds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    }

    /** The group of instance @p k of a point-cloud set: six digits, "000042". */
    std::string
    instance_group_name(const std::size_t k)
    {
      std::string digits = std::to_string(k);
      return std::string(digits.size() < 6 ? 6 - digits.size() : 0, '0') + digits;
    }

    /** The group @p name of @p file. @throws std::runtime_error (from @p where) listing
     *  the sets present if there is none. */
    Handle
    open_set(hid_t file, const std::string &name, const std::string &where)
    {
      const auto sets = group_names(file);
      if (!std::binary_search(sets.begin(), sets.end(), name))
        {
          std::string present;
          for (const auto &set : sets)
            present += (present.empty() ? "'" : ", '") + set + "'";
          throw std::runtime_error(where + ": no such set; the sets present are [" + present + "]");
        }
      return Handle(H5Gopen2(file, name.c_str(), H5P_DEFAULT), H5Gclose);
    }
  } // namespace


  std::size_t
  PointCloudDataSet::latent_points() const
  {
    return latent_shape.empty() ?
             0 :
             std::accumulate(latent_shape.begin(), latent_shape.end(), std::size_t(1), std::multiplies<std::size_t>());
  }


  std::size_t
  GridDataSet::n_samples() const
  {
    return seeds.size();
  }


  std::size_t
  GridDataSet::points_per_sample() const
  {
    return std::accumulate(grid_shape.begin(), grid_shape.end(), std::size_t(1), std::multiplies<std::size_t>());
  }


  class DatasetFileWriter::Impl
  {
  public:
    std::filesystem::path               path;
    std::filesystem::path               temporary;
    std::unique_ptr<dealii::HDF5::File> file;
    std::set<std::string>               set_names;
    std::map<std::string, std::string>  attributes;
    bool                                closed = false;
  };


  DatasetFileWriter::DatasetFileWriter(const std::filesystem::path &path)
    : impl(std::make_unique<Impl>())
  {
    impl->path      = path;
    impl->temporary = path;
    impl->temporary += ".tmp";
    ErrorTrap trap;
    try
      {
        impl->file =
          std::make_unique<dealii::HDF5::File>(impl->temporary.string(), dealii::HDF5::File::FileAccessMode::create);
      }
    catch (const dealii::ExceptionBase &)
      {
        // Reported below: deal.II checks H5Fcreate only in Debug builds, the trap always.
      }
    const std::string error = trap.take_error();
    if (!impl->file || !error.empty())
      {
        impl->file.reset();
        std::error_code ignored;
        std::filesystem::remove(impl->temporary, ignored);
        AssertThrow(false,
                    dealii::ExcMessage("DatasetFileWriter: cannot create " + quoted(impl->temporary) + " (" + error +
                                       ")"));
      }
  }


  DatasetFileWriter::~DatasetFileWriter()
  {
    if (impl->closed)
      return;
    {
      ErrorTrap trap;
      impl->file.reset();
    }
    std::error_code ignored;
    std::filesystem::remove(impl->temporary, ignored);
  }


  void
  DatasetFileWriter::set_attribute(const std::string &key, const std::string &value)
  {
    impl->attributes[key] = value;
  }


  void
  DatasetFileWriter::add_set(const GridDataSet &set)
  {
    const std::string where = "DatasetFileWriter " + quoted(impl->path) + ", set '" + set.name + "'";
    AssertThrow(impl->file, dealii::ExcMessage(where + ": add_set() after close()"));
    AssertThrow(!set.name.empty() && set.name.find('/') == std::string::npos && set.name != ".",
                dealii::ExcMessage(where + ": expected a non-empty name without '/'"));
    AssertThrow(impl->set_names.count(set.name) == 0, dealii::ExcMessage(where + ": the file already has this set"));
    AssertThrow(set.n_samples() > 0, dealii::ExcMessage(where + ": expected at least one sample (seed), found none"));
    AssertThrow(!set.grid_shape.empty() && set.points_per_sample() > 0 && set.in_channels > 0 && set.out_channels > 0,
                dealii::ExcMessage(where + ": expected at least one grid axis, no axis of size 0 and in_channels, "
                                           "out_channels > 0"));
    for (const auto &[array, channels, label] :
         {std::tuple{&set.x, set.in_channels, "x"}, std::tuple{&set.y, set.out_channels, "y"}})
      {
        const std::size_t expected = set.n_samples() * channels * set.points_per_sample();
        AssertThrow(array->size() == expected,
                    dealii::ExcMessage(where + ": expected " + label + " of size n_samples * channels * points = " +
                                       std::to_string(set.n_samples()) + " * " + std::to_string(channels) + " * " +
                                       std::to_string(set.points_per_sample()) + " = " + std::to_string(expected) +
                                       ", found " + std::to_string(array->size())));
      }

    ErrorTrap trap;
    {
      const auto           group = impl->file->create_group(set.name);
      std::vector<hsize_t> shape{set.n_samples(), set.in_channels};
      shape.insert(shape.end(), set.grid_shape.begin(), set.grid_shape.end());
      group.create_dataset<float>("x", shape).write(set.x);
      shape[1] = set.out_channels;
      group.create_dataset<float>("y", shape).write(set.y);

      write_seeds(group, set.seeds);
    }
    const std::string error = trap.take_error();
    AssertThrow(error.empty(), dealii::ExcMessage(where + ": HDF5 failed: " + error));
    impl->set_names.insert(set.name);
  }


  void
  DatasetFileWriter::add_point_cloud_set(const PointCloudDataSet &set)
  {
    const std::string where = "DatasetFileWriter " + quoted(impl->path) + ", point-cloud set '" + set.name + "'";
    AssertThrow(impl->file, dealii::ExcMessage(where + ": add_point_cloud_set() after close()"));
    AssertThrow(!set.name.empty() && set.name.find('/') == std::string::npos && set.name != ".",
                dealii::ExcMessage(where + ": expected a non-empty name without '/'"));
    AssertThrow(impl->set_names.count(set.name) == 0, dealii::ExcMessage(where + ": the file already has this set"));
    AssertThrow(!set.samples.empty(), dealii::ExcMessage(where + ": expected at least one instance, found none"));
    const std::size_t d = set.dimension;
    AssertThrow(d > 0 && set.latent_shape.size() == d && set.latent_points() > 0,
                dealii::ExcMessage(where + ": expected a latent grid of d = " + std::to_string(d) +
                                   " axes, none of size 0"));
    AssertThrow(set.latent_queries.size() == set.latent_points() * d,
                dealii::ExcMessage(where + ": expected latent_queries of size " +
                                   std::to_string(set.latent_points() * d) + ", found " +
                                   std::to_string(set.latent_queries.size())));
    for (std::size_t k = 0; k < set.samples.size(); ++k)
      {
        const PointCloudSample &sample = set.samples[k];
        const std::size_t       n      = sample.points.size() / d;
        const std::string       what   = where + ", instance " + std::to_string(k);
        for (const auto &[size, expected, label] :
             {std::tuple{sample.points.size(), n * d, "points [n, d]"},
              std::tuple{sample.x.size(), n * set.in_channels, "x [n, in_channels]"},
              std::tuple{sample.y.size(), n * set.out_channels, "y [n, out_channels]"},
              std::tuple{sample.weights.size(), n, "weights [n]"},
              std::tuple{sample.latent_features.size(),
                         set.latent_points() * set.latent_feature_channels,
                         "latent_features [g_1, ..., g_d, latent_feature_channels]"}})
          AssertThrow(n > 0 && size == expected,
                      dealii::ExcMessage(what + ": expected " + label + " of size " + std::to_string(expected) +
                                         " (n = " + std::to_string(n) + " points), found " + std::to_string(size)));
      }

    ErrorTrap trap;
    {
      const auto           group = impl->file->create_group(set.name);
      std::vector<hsize_t> latent(set.latent_shape.begin(), set.latent_shape.end());
      latent.push_back(d);
      group.create_dataset<float>("latent_queries", latent).write(set.latent_queries);
      latent.back() = set.latent_feature_channels;
      std::vector<std::uint64_t> seeds;
      for (std::size_t k = 0; k < set.samples.size(); ++k)
        {
          const PointCloudSample &sample = set.samples[k];
          const hsize_t           n      = sample.points.size() / d;
          const auto              item   = group.create_group(instance_group_name(k));
          item.create_dataset<float>("points", std::vector<hsize_t>{n, d}).write(sample.points);
          if (set.in_channels > 0)
            item.create_dataset<float>("x", std::vector<hsize_t>{n, set.in_channels}).write(sample.x);
          item.create_dataset<float>("y", std::vector<hsize_t>{n, set.out_channels}).write(sample.y);
          item.create_dataset<float>("weights", std::vector<hsize_t>{n}).write(sample.weights);
          if (set.latent_feature_channels > 0)
            item.create_dataset<float>("latent_features", latent).write(sample.latent_features);
          seeds.push_back(sample.seed);
        }
      write_seeds(group, seeds);
    }
    const std::string error = trap.take_error();
    AssertThrow(error.empty(), dealii::ExcMessage(where + ": HDF5 failed: " + error));
    impl->set_names.insert(set.name);
  }


  void
  DatasetFileWriter::close()
  {
    const std::string where = "DatasetFileWriter " + quoted(impl->path);
    AssertThrow(impl->file, dealii::ExcMessage(where + ": close() called twice"));
    {
      ErrorTrap trap;
      for (const auto &[key, value] : impl->attributes)
        impl->file->set_attribute(key, value);
      H5Fflush(HandleOf::get(*impl->file), H5F_SCOPE_GLOBAL);
      impl->file.reset();
      const std::string error = trap.take_error();
      AssertThrow(error.empty(), dealii::ExcMessage(where + ": HDF5 failed: " + error));
    }
    io::sync_file(impl->temporary);
    std::filesystem::rename(impl->temporary, impl->path);
    impl->closed = true;
    io::sync_directory(std::filesystem::absolute(impl->path).parent_path());
  }


  std::vector<std::string>
  list_sets(const std::filesystem::path &path)
  {
    ErrorTrap    trap;
    const Handle file = open_read_only(path, trap, "list_sets: " + quoted(path));
    return group_names(file);
  }


  GridDataSet
  read_set(const std::filesystem::path &path, const std::string &name, std::size_t max_samples)
  {
    const std::string where = "read_set: " + quoted(path) + ", set '" + name + "'";
    ErrorTrap         trap;
    const Handle      file  = open_read_only(path, trap, "read_set: " + quoted(path));
    const Handle      group = open_set(file, name, where);
    if (H5Lexists(group, "latent_queries", H5P_DEFAULT) > 0)
      throw std::runtime_error(where + ": a point-cloud set (one group per instance), not a grid set: read it "
                                       "with read_point_cloud_set() (model gino)");
    const auto x_shape     = shape_of(group, "x", where);
    const auto y_shape     = shape_of(group, "y", where);
    const auto seeds_shape = shape_of(group, "seeds", where);
    if (x_shape.size() < 3)
      throw std::runtime_error(where + ": expected x of rank >= 3 [n, in_channels, n_1, ..., n_d], found " +
                               to_string(x_shape));
    std::vector<hsize_t> expected_y = x_shape;
    expected_y[1]                   = y_shape.size() > 1 ? y_shape[1] : 0;
    if (y_shape != expected_y)
      throw std::runtime_error(where + ": expected y [n, out_channels, n_1, ..., n_d] with n and grid of x " +
                               to_string(x_shape) + ", found " + to_string(y_shape));
    if (seeds_shape != std::vector<hsize_t>{x_shape[0]})
      throw std::runtime_error(where + ": expected seeds [n] with n of x " + to_string(x_shape) + ", found " +
                               to_string(seeds_shape));

    GridDataSet set;
    set.name                = name;
    set.grid_shape          = std::vector<unsigned int>(x_shape.begin() + 2, x_shape.end());
    set.in_channels         = x_shape[1];
    set.out_channels        = y_shape[1];
    const hsize_t n         = max_samples == 0 ? x_shape[0] : std::min<hsize_t>(max_samples, x_shape[0]);
    set.x                   = read_leading<float>(group, "x", x_shape, n, H5T_NATIVE_FLOAT);
    set.y                   = read_leading<float>(group, "y", y_shape, n, H5T_NATIVE_FLOAT);
    set.seeds               = read_leading<std::uint64_t>(group, "seeds", seeds_shape, n, H5T_NATIVE_UINT64);
    const std::string error = trap.take_error();
    if (!error.empty())
      throw std::runtime_error(where + ": HDF5 failed: " + error);
    return set;
  }


  bool
  is_point_cloud_set(const std::filesystem::path &path, const std::string &name)
  {
    ErrorTrap    trap;
    const Handle file  = open_read_only(path, trap, "is_point_cloud_set: " + quoted(path));
    const Handle group = open_set(file, name, "is_point_cloud_set: " + quoted(path) + ", set '" + name + "'");
    return H5Lexists(group, "latent_queries", H5P_DEFAULT) > 0;
  }


  PointCloudDataSet
  read_point_cloud_set(const std::filesystem::path &path, const std::string &name, std::size_t max_samples)
  {
    const std::string where = "read_point_cloud_set: " + quoted(path) + ", set '" + name + "'";
    ErrorTrap         trap;
    const Handle      file  = open_read_only(path, trap, "read_point_cloud_set: " + quoted(path));
    const Handle      group = open_set(file, name, where);
    if (H5Lexists(group, "latent_queries", H5P_DEFAULT) <= 0)
      throw std::runtime_error(
        where +
        ": expected a dataset 'latent_queries' [g_1, ..., g_d, d] of a point-cloud "
        "set, found none" +
        (H5Lexists(group, "x", H5P_DEFAULT) > 0 ? std::string(" (a grid set: model fno)") : std::string()));
    const auto latent_shape = shape_of(group, "latent_queries", where);
    if (latent_shape.size() < 2 || latent_shape.back() != latent_shape.size() - 1)
      throw std::runtime_error(where + ": expected latent_queries [g_1, ..., g_d, d] (last axis d = rank - 1), found " +
                               to_string(latent_shape));
    const auto seeds_shape = shape_of(group, "seeds", where);
    if (seeds_shape.size() != 1 || seeds_shape[0] == 0)
      throw std::runtime_error(where + ": expected seeds [n] with n >= 1, found " + to_string(seeds_shape));

    PointCloudDataSet set;
    set.name      = name;
    set.dimension = latent_shape.size() - 1;
    set.latent_shape.assign(latent_shape.begin(), latent_shape.end() - 1);
    const hsize_t d    = set.dimension;
    const hsize_t n    = max_samples == 0 ? seeds_shape[0] : std::min<hsize_t>(max_samples, seeds_shape[0]);
    set.latent_queries = read_leading<float>(group, "latent_queries", latent_shape, latent_shape[0], H5T_NATIVE_FLOAT);
    const std::vector<std::uint64_t> seeds =
      read_leading<std::uint64_t>(group, "seeds", seeds_shape, n, H5T_NATIVE_UINT64);
    for (hsize_t k = 0; k < n; ++k)
      {
        const std::string item_name = instance_group_name(k);
        const std::string what      = where + ", instance group '" + name + "/" + item_name + "'";
        if (H5Lexists(group, item_name.c_str(), H5P_DEFAULT) <= 0)
          throw std::runtime_error(what + ": missing (seeds lists " + std::to_string(seeds_shape[0]) + " instances)");
        const Handle item(H5Gopen2(group, item_name.c_str(), H5P_DEFAULT), H5Gclose);
        const auto   points_shape = shape_of(item, "points", what);
        if (points_shape.size() != 2 || points_shape[1] != d || points_shape[0] == 0)
          throw std::runtime_error(what + ": expected points [n_k, " + std::to_string(d) + "], found " +
                                   to_string(points_shape));
        const hsize_t n_k = points_shape[0];
        // x is absent when the set has no input function (in_channels 0, car-CFD style).
        const auto matrix_shape = [&](const std::string &dataset, unsigned int &channels, const bool optional) {
          const bool present = H5Lexists(item, dataset.c_str(), H5P_DEFAULT) > 0;
          if (optional && !present && (k == 0 || channels == 0))
            {
              channels = 0;
              return std::vector<hsize_t>{n_k, 0};
            }
          const auto shape = shape_of(item, dataset, what);
          if (shape.size() != 2 || shape[0] != n_k || shape[1] == 0 || (k > 0 && shape[1] != channels))
            throw std::runtime_error(what + ": expected " + dataset + " [" + std::to_string(n_k) + ", " +
                                     (k > 0 ? std::to_string(channels) : std::string("channels >= 1")) +
                                     "] (n_k of points" + (k > 0 ? ", the channels of the first instance" : "") +
                                     "), found " + to_string(shape));
          channels = shape[1];
          return shape;
        };
        const auto x_shape       = matrix_shape("x", set.in_channels, true);
        const auto y_shape       = matrix_shape("y", set.out_channels, false);
        const auto weights_shape = shape_of(item, "weights", what);
        if (weights_shape != std::vector<hsize_t>{n_k})
          throw std::runtime_error(what + ": expected weights [" + std::to_string(n_k) + "], found " +
                                   to_string(weights_shape));
        PointCloudSample sample;
        sample.seed   = seeds[k];
        sample.points = read_leading<float>(item, "points", points_shape, n_k, H5T_NATIVE_FLOAT);
        if (set.in_channels > 0)
          sample.x = read_leading<float>(item, "x", x_shape, n_k, H5T_NATIVE_FLOAT);
        sample.y                = read_leading<float>(item, "y", y_shape, n_k, H5T_NATIVE_FLOAT);
        sample.weights          = read_leading<float>(item, "weights", weights_shape, n_k, H5T_NATIVE_FLOAT);
        const bool has_features = H5Lexists(item, "latent_features", H5P_DEFAULT) > 0;
        if (k == 0 && has_features)
          set.latent_feature_channels = shape_of(item, "latent_features", what).back();
        if (set.latent_feature_channels > 0)
          {
            std::vector<hsize_t> expected(set.latent_shape.begin(), set.latent_shape.end());
            expected.push_back(set.latent_feature_channels);
            const auto features_shape = has_features ? shape_of(item, "latent_features", what) : std::vector<hsize_t>{};
            if (features_shape != expected)
              throw std::runtime_error(what + ": expected latent_features " + to_string(expected) +
                                       " (the latent grid of latent_queries, the channels of the first instance), "
                                       "found " +
                                       (has_features ? to_string(features_shape) : std::string("none")));
            sample.latent_features =
              read_leading<float>(item, "latent_features", features_shape, features_shape[0], H5T_NATIVE_FLOAT);
          }
        set.samples.push_back(std::move(sample));
      }
    const std::string error = trap.take_error();
    if (!error.empty())
      throw std::runtime_error(where + ": HDF5 failed: " + error);
    return set;
  }


  std::map<std::string, std::string>
  read_attributes(const std::filesystem::path &path)
  {
    const std::string        where = "read_attributes: " + quoted(path);
    ErrorTrap                trap;
    const Handle             file = open_read_only(path, trap, where);
    std::vector<std::string> keys;
    H5Aiterate2(
      file,
      H5_INDEX_NAME,
      H5_ITER_INC,
      nullptr,
      [](hid_t, const char *key, const H5A_info_t *, void *keys) -> herr_t {
        static_cast<std::vector<std::string> *>(keys)->push_back(key);
        return 0;
      },
      &keys);

    std::map<std::string, std::string> attributes;
    for (const auto &key : keys)
      {
        const Handle attribute(H5Aopen(file, key.c_str(), H5P_DEFAULT), H5Aclose);
        const Handle type(H5Aget_type(attribute), H5Tclose);
        const Handle space(H5Aget_space(attribute), H5Sclose);
        if (H5Tget_class(type) != H5T_STRING || H5Sget_simple_extent_npoints(space) != 1)
          continue;
        if (H5Tis_variable_str(type) > 0)
          {
            const Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
            H5Tset_size(memory_type, H5T_VARIABLE);
            H5Tset_cset(memory_type, H5Tget_cset(type));
            char *text = nullptr;
            if (H5Aread(attribute, memory_type, &text) >= 0 && text != nullptr)
              attributes[key] = text;
            H5free_memory(text);
          }
        else // fixed length, e.g. numpy.bytes_ from h5py; NUL padded
          {
            std::string text(H5Tget_size(type), '\0');
            if (H5Aread(attribute, type, text.data()) >= 0)
              attributes[key] = text.substr(0, text.find('\0'));
          }
      }
    const std::string error = trap.take_error();
    if (!error.empty())
      throw std::runtime_error(where + ": HDF5 failed: " + error);
    return attributes;
  }
} // namespace mpno
