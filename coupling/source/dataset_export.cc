#include <mpno/coupling/dataset_export.h>
#include <mpno/surrogate/io_utils.h>

#include <torch/serialize.h>
#include <torch/torch.h>

#include "dataset_tensors.h"

namespace mpno
{
  void
  export_pt(const GridDataSet &set, const std::filesystem::path &path)
  {
    const TensorDataset                   data = to_tensor_dataset(set);
    c10::Dict<std::string, torch::Tensor> dict;
    dict.insert("x", data.x);
    dict.insert("y", data.y);
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
    io::write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
  }
} // namespace mpno
