#include <mpno/plugin/hybrid_strategy.h>

namespace mpno
{
  namespace HybridStrategy
  {
    plugin::Registry<Interface> &
    registry()
    {
      // Function-local: constructed on first use, whichever registration comes first.
      static plugin::Registry<Interface> instance;
      return instance;
    }
  } // namespace HybridStrategy
} // namespace mpno
