#pragma once

// Internal to libmpno_coupling (and its tests): the LibTorch side of SurrogateModel.

#include <mpno/coupling/surrogate_model.h>
#include <mpno/surrogate/trainer.h>

namespace mpno
{
  struct SurrogateModel::Impl
  {
    LoadedModel loaded;
  };
} // namespace mpno
