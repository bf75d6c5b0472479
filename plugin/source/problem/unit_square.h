#pragma once

// Internal to libmpno_plugin: the base of the built-in problems on the unit square with a
// DoFHandler<2> (darcy, heat, nonlinear darcy). deal.II only.

#include <deal.II/fe/mapping_q1.h>

#include <mpno/plugin/problem.h>

#include <utility>

namespace mpno
{
  namespace Problem
  {
    /** A problem on [0,1]^2 meshed with MappingQ1: the operator's grid covers the square. */
    class UnitSquareProblem : public Interface<2>
    {
    public:
      const dealii::Mapping<2> &
      get_mapping() const override
      {
        return mapping;
      }

      std::pair<dealii::Point<2>, dealii::Point<2>>
      bounding_box() const override
      {
        return {dealii::Point<2>(0., 0.), dealii::Point<2>(1., 1.)};
      }

    private:
      dealii::MappingQ1<2> mapping;
    };
  } // namespace Problem
} // namespace mpno
