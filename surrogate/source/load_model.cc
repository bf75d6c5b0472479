#include <mpno/surrogate/trainer.h>

#include "checkpoint_io.h"

#include <stdexcept>

namespace mpno
{
  namespace fs = std::filesystem;
  using namespace checkpoint_io;

  torch::Tensor
  LoadedModel::predict(const torch::Tensor &x) const
  {
    if (!model)
      throw std::logic_error("LoadedModel::predict: no model loaded");
    torch::NoGradGuard no_grad;
    const bool         was_training = model->is_training();
    model->eval();
    const auto    parameters = model->parameters();
    torch::Tensor input      = parameters.empty() ? x : x.to(parameters.front().device());
    if (input_normalizer)
      input = input_normalizer->encode(input);
    torch::Tensor out = model->forward(input).to(torch::kFloat);
    if (output_normalizer)
      out = output_normalizer->decode(out);
    model->train(was_training);
    return out;
  }

  LoadedModel
  load_model(const fs::path &checkpoint_directory)
  {
    if (!fs::is_directory(checkpoint_directory))
      throw std::runtime_error("checkpoint directory '" + checkpoint_directory.string() +
                               "' does not exist");
    for (const char *file : {state_file, model_file, normalizer_file})
      require_file(checkpoint_directory, file);

    const fs::path        state_path = checkpoint_directory / state_file;
    const CheckpointState state      = read_state(state_path);

    LoadedModel loaded;
    try
      {
        loaded.model = make_neural_operator(state.model_name, state.model_config, state.precision);
      }
    catch (const std::exception &error)
      {
        throw std::runtime_error("cannot rebuild the model from '" + state_path.string() +
                                 "': " + error.what());
      }
    load_module(*loaded.model, checkpoint_directory / model_file);
    load_normalizers(loaded.input_normalizer,
                     loaded.output_normalizer,
                     state_entry(state, "encode_input", state_path) == "true",
                     state_entry(state, "encode_output", state_path) == "true",
                     checkpoint_directory / normalizer_file);
    loaded.model->eval();
    return loaded;
  }
} // namespace mpno
