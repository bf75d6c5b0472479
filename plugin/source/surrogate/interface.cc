#include <mpno/plugin/surrogate.h>

#include <stdexcept>

namespace mpno
{
  namespace Surrogate
  {
    std::pair<std::string, std::string>
    Interface::point_cloud_configuration(int64_t, int64_t, int64_t) const
    {
      throw std::logic_error("Surrogate::Interface::point_cloud_configuration: this model works on grids, not "
                             "point clouds (use Model = gino)");
    }

    plugin::Registry<Interface> &
    registry()
    {
      // Function-local: constructed on first use, whichever registration comes first.
      static plugin::Registry<Interface> instance;
      return instance;
    }
  } // namespace Surrogate
} // namespace mpno
