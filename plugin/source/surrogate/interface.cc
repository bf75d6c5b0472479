#include <mpno/plugin/surrogate.h>

namespace mpno
{
  namespace Surrogate
  {
    plugin::Registry<Interface> &
    registry()
    {
      // Function-local: constructed on first use, whichever registration comes first.
      static plugin::Registry<Interface> instance;
      return instance;
    }
  } // namespace Surrogate
} // namespace mpno
