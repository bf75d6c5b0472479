#include <mpno/plugin/problem.h>

namespace mpno
{
  namespace Problem
  {
    template <int dim>
    plugin::Registry<Interface<dim>> &
    registry()
    {
      // Function-local: constructed on first use, whichever registration comes first.
      static plugin::Registry<Interface<dim>> instance;
      return instance;
    }

    template plugin::Registry<Interface<2>> &
    registry<2>();
    template plugin::Registry<Interface<3>> &
    registry<3>();
  } // namespace Problem
} // namespace mpno
