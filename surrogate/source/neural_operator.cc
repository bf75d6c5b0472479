// make_neural_operator(): the models a checkpoint names, rebuilt from their configuration text.
#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/gino.h>
#include <mpno/surrogate/neural_operator.h>
#include <mpno/surrogate/sfno.h>

#include <stdexcept>

namespace mpno
{
  std::shared_ptr<NeuralOperator>
  make_neural_operator(const std::string &model_name, const std::string &config_text, const PrecisionPolicy &precision)
  {
    if (model_name == "fno" || model_name == "tfno")
      {
        const FNOOptions options = FNOOptions::from_text(config_text);
        if (model_name == "tfno" && options.factorization == "dense")
          throw std::invalid_argument("model tfno: the configuration needs factorization = tucker, cp or tt");
        return std::make_shared<FNOImpl>(options, precision);
      }
    if (model_name == "sfno")
      return std::make_shared<SFNOImpl>(SFNOOptions::from_text(config_text), precision);
    if (model_name == "gino")
      return std::make_shared<GINOImpl>(GINOOptions::from_text(config_text), precision);
    throw std::invalid_argument("Unknown model '" + model_name + "'; known models: fno, tfno, sfno, gino");
  }
} // namespace mpno
