// load_car_cfd_pt(): neuraloperator's car-CFD .pt files (a list of dicts) as GINO inputs.
#include <mpno/surrogate/car_cfd_dataset.h>
#include <mpno/surrogate/dataset.h>
#include <mpno/surrogate/io_utils.h>

#include <torch/serialize.h>
#include <torch/torch.h>

#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace
  {
    std::string
    where(const std::string &path, const int64_t car, const std::string &key = "")
    {
      return "load_car_cfd_pt: '" + path + "', car " + std::to_string(car) + (key.empty() ? "" : ", key '" + key + "'");
    }

    /** The float32 tensor under @p key of one car's dict, checked finite. */
    torch::Tensor
    entry(const c10::impl::GenericDict &dict, const std::string &path, const int64_t car, const std::string &key)
    {
      const auto found = dict.find(key);
      if (found == dict.end())
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
          throw std::invalid_argument(where(path, car, key) + ": key not found; the keys present are [" + keys + "]");
        }
      if (!found->value().isTensor())
        throw std::invalid_argument(where(path, car, key) + ": expected a tensor, found " + found->value().tagKind());
      const torch::Tensor t = found->value().toTensor();
      if (!c10::isFloatingType(t.scalar_type()))
        throw std::invalid_argument(where(path, car, key) + ": expected a floating dtype, found " +
                                    c10::toString(t.scalar_type()));
      torch::Tensor value = t.to(torch::kCPU, torch::kFloat).contiguous();
      if (!torch::isfinite(value).all().item<bool>())
        throw std::invalid_argument(where(path, car, key) + ": expected finite values");
      return value;
    }

    [[noreturn]] void
    bad_shape(const std::string   &path,
              const int64_t        car,
              const std::string   &key,
              const std::string   &expected,
              const torch::Tensor &t)
    {
      throw std::invalid_argument(where(path, car, key) + ": expected shape " + expected + ", found " +
                                  io::shape_to_string(t.sizes()));
    }
  } // namespace

  GINOInput
  CarCFDInstance::gino_input() const
  {
    GINOInput input;
    input.input_geom      = vertices;
    input.latent_queries  = query_points;
    input.output_queries  = vertices;
    input.latent_features = distance;
    return input;
  }

  std::vector<CarCFDInstance>
  load_car_cfd_pt(const std::string &path, const int64_t max_samples)
  {
    const c10::IValue content = load_torch_file(path, "load_car_cfd_pt");
    if (!content.isList())
      throw std::runtime_error("load_car_cfd_pt: '" + path + "': expected a list of dicts (one per car), found " +
                               content.tagKind());
    const auto                  list = content.toListRef();
    std::vector<CarCFDInstance> cars;
    for (std::size_t k = 0; k < list.size(); ++k)
      {
        if (max_samples > 0 && static_cast<int64_t>(k) >= max_samples)
          break;
        const auto car = static_cast<int64_t>(k);
        if (!list[k].isGenericDict())
          throw std::runtime_error(where(path, car) + ": expected a dict, found " + list[k].tagKind());
        const auto     dict = list[k].toGenericDict();
        CarCFDInstance instance;
        instance.vertices = entry(dict, path, car, "vertices");
        if (instance.vertices.dim() != 2 || instance.vertices.size(1) != 3)
          bad_shape(path, car, "vertices", "[n, 3]", instance.vertices);
        const int64_t n = instance.vertices.size(0);

        const torch::Tensor press = entry(dict, path, car, "press");
        if (press.numel() != n ||
            !(press.dim() == 1 || (press.dim() == 2 && (press.size(0) == 1 || press.size(1) == 1))))
          bad_shape(path, car, "press", "[1, " + std::to_string(n) + "] (one value per vertex)", press);
        instance.press = press.reshape({n, 1});

        instance.query_points = entry(dict, path, car, "query_points");
        if (instance.query_points.dim() != 4 || instance.query_points.size(3) != 3)
          bad_shape(path, car, "query_points", "[g1, g2, g3, 3]", instance.query_points);
        instance.distance = entry(dict, path, car, "distance");
        auto grid         = instance.query_points.sizes().vec();
        grid[3]           = 1;
        if (instance.distance.sizes().vec() != grid)
          bad_shape(path,
                    car,
                    "distance",
                    io::shape_to_string(grid) + " (the grid of query_points)",
                    instance.distance);
        cars.push_back(std::move(instance));
      }
    if (cars.empty())
      throw std::invalid_argument("load_car_cfd_pt: '" + path + "': the list holds no car");
    return cars;
  }

  void
  save_car_cfd_pt(const std::string &path, const std::vector<CarCFDInstance> &cars)
  {
    c10::List<c10::Dict<std::string, torch::Tensor>> list;
    for (const auto &car : cars)
      {
        c10::Dict<std::string, torch::Tensor> dict;
        dict.insert("vertices", car.vertices.to(torch::kCPU, torch::kFloat).contiguous());
        dict.insert("press", car.press.to(torch::kCPU, torch::kFloat).reshape({1, -1}).contiguous());
        dict.insert("query_points", car.query_points.to(torch::kCPU, torch::kFloat).contiguous());
        dict.insert("distance", car.distance.to(torch::kCPU, torch::kFloat).contiguous());
        list.push_back(dict);
      }
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(list));
    io::write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
  }
} // namespace mpno
