#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/io_utils.h>

#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace
  {
    /** "load_pt_dataset: 'path'[, key 'key']", the start of every message. */
    std::string
    where(const std::string &path, const std::string &key = "")
    {
      return "load_pt_dataset: '" + path + "'" + (key.empty() ? "" : ", key '" + key + "'");
    }

    /** The unpickled content of a torch.save file, which must be a dict. */
    c10::impl::GenericDict
    read_dict(const std::string &path)
    {
      const c10::IValue content = load_torch_file(path, "load_pt_dataset");
      if (!content.isGenericDict())
        throw std::runtime_error(where(path) + ": expected a dict of tensors, found " + content.tagKind());
      return content.toGenericDict();
    }

    /** The tensor under @p key, as float32 [samples, channels, n_1, ..., n_d], unchecked values. */
    torch::Tensor
    field(const c10::impl::GenericDict &dict, const std::string &path, const std::string &key, int64_t spatial_dim)
    {
      const auto entry = dict.find(key);
      if (entry == dict.end())
        {
          std::string keys;
          for (const auto &item : dict)
            {
              std::ostringstream name;
              if (item.key().isString())
                name << "'" << item.key().toStringRef() << "'";
              else
                name << item.key();
              keys += (keys.empty() ? "" : ", ") + name.str();
            }
          throw std::invalid_argument(where(path, key) + ": key not found; the keys present are [" + keys + "]");
        }
      if (!entry->value().isTensor())
        throw std::runtime_error(where(path, key) + ": expected a tensor, found " + entry->value().tagKind());

      torch::Tensor t = entry->value().toTensor();
      if (t.dim() != spatial_dim + 1 && t.dim() != spatial_dim + 2)
        throw std::invalid_argument(where(path, key) + ": expected rank " + std::to_string(spatial_dim + 1) +
                                    " [samples, n_1, ..., n_d] or " + std::to_string(spatial_dim + 2) +
                                    " [samples, channels, n_1, ..., n_d] for d = " + std::to_string(spatial_dim) +
                                    ", found rank " + std::to_string(t.dim()) + " with shape " +
                                    io::shape_to_string(t.sizes()));
      const auto type = t.scalar_type();
      if (!(type == torch::kBool || c10::isIntegralType(type, false) || c10::isFloatingType(type)))
        throw std::invalid_argument(where(path, key) + ": expected a bool, integer or floating dtype, found " +
                                    c10::toString(type));
      return t.dim() == spatial_dim + 1 ? t.unsqueeze(1) : t;
    }
  } // namespace

  c10::IValue
  load_torch_file(const std::string &path, const std::string &caller)
  {
    const std::string context = caller + ": '" + path + "'";
    if (!std::filesystem::is_regular_file(path))
      throw std::runtime_error(context + ": no such file");
    std::ifstream file(path, std::ios::binary);
    if (!file)
      throw std::runtime_error(context + ": cannot open the file for reading");
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    try
      {
        return torch::pickle_load(bytes);
      }
    catch (const c10::Error &error)
      {
        throw std::runtime_error(context + ": expected a torch.save file (zip archive holding a pickle), but it " +
                                 "could not be read: " + error.what_without_backtrace());
      }
  }

  std::vector<int64_t>
  TensorDataset::grid_shape() const
  {
    if (!x.defined() || x.dim() < 2)
      return {};
    return x.sizes().slice(2).vec();
  }

  TensorDataset
  TensorDataset::head(int64_t n) const
  {
    if (n <= 0 || n >= size())
      return *this;
    return {x.narrow(0, 0, n), y.narrow(0, 0, n)};
  }

  TensorDataset
  load_pt_dataset(const std::string &path,
                  const std::string &input_key,
                  const std::string &output_key,
                  int64_t            spatial_dim,
                  int64_t            max_samples)
  {
    if (spatial_dim < 1)
      throw std::invalid_argument(where(path) + ": spatial_dim must be >= 1, found " + std::to_string(spatial_dim));
    const auto    dict = read_dict(path);
    TensorDataset data{field(dict, path, input_key, spatial_dim), field(dict, path, output_key, spatial_dim)};

    if (data.x.size(0) != data.y.size(0))
      throw std::invalid_argument(where(path) + ": expected as many samples under '" + input_key + "' as under '" +
                                  output_key + "', found " + std::to_string(data.x.size(0)) + " and " +
                                  std::to_string(data.y.size(0)));
    if (data.x.sizes().slice(2) != data.y.sizes().slice(2))
      throw std::invalid_argument(where(path) + ": expected the same grid under '" + input_key + "' and '" +
                                  output_key + "', found " + io::shape_to_string(data.x.sizes().slice(2)) + " and " +
                                  io::shape_to_string(data.y.sizes().slice(2)));

    // Slice before converting so that a small max_samples copies little.
    data = data.head(max_samples);
    for (auto [key, tensor] : {std::pair{&input_key, &data.x}, std::pair{&output_key, &data.y}})
      {
        *tensor = tensor->to(torch::kFloat32).contiguous();
        if (!torch::isfinite(*tensor).all().item<bool>())
          throw std::invalid_argument(where(path, *key) + ": expected finite values, found " +
                                      std::to_string((~torch::isfinite(*tensor)).sum().item<int64_t>()) +
                                      " non-finite");
      }
    return data;
  }
} // namespace mpno
