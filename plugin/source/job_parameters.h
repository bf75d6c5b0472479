#pragma once

// Internal to libmpno_plugin: the entries of the main job's stages (problem, data
// generation, hybrid solves) and their parsed values. No LibTorch header.

#include <deal.II/base/parameter_handler.h>

#include <mpno/coupling/linear_solve.h>
#include <mpno/plugin/problem.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  namespace plugin
  {
    /** Seeds of the instances: training i is Seed + i, test i is Seed + test_seed_offset
     *  + i, hybrid solve i is Seed + hybrid_seed_offset + i, so the three never overlap. */
    constexpr std::uint64_t test_seed_offset   = 1000000000;
    constexpr std::uint64_t hybrid_seed_offset = 2000000000;

    /** `subsection Problem`: `Name` and each registered problem's subsection. */
    void
    declare_problem(dealii::ParameterHandler &prm, int dim);

    /** `subsection Data generation`. */
    void
    declare_data_generation(dealii::ParameterHandler &prm);

    /** `subsection Hybrid solver`: HybridSolver's entries and the driver's. */
    void
    declare_hybrid_solver(dealii::ParameterHandler &prm, int dim);

    /** What `mpno generate` reads from `subsection Data generation`. */
    struct GenerationSettings
    {
      unsigned int              training_instances = 1000;
      unsigned int              test_instances     = 100;
      unsigned int              training_points    = 32;
      std::vector<unsigned int> test_points{32, 64};
      std::uint64_t             seed = 0;
      KrylovSettings            krylov;
      bool                      export_pt = false;
    };

    /** What `mpno solve` reads from `subsection Hybrid solver` besides HybridSolver's own. */
    struct HybridRunSettings
    {
      unsigned int  instances     = 20;
      unsigned int  vtu_instances = 2;
      std::uint64_t seed          = 0; ///< `Data generation/Seed`
    };

    /** @throws UserError naming the entry and @p parameter_file. */
    GenerationSettings
    read_generation_settings(dealii::ParameterHandler &prm, const std::filesystem::path &parameter_file);

    HybridRunSettings
    read_hybrid_run_settings(dealii::ParameterHandler &prm);

    /** The problem `Problem/Name`, its parameters parsed (not yet set up).
     *  @throws UserError naming the entry and @p parameter_file. */
    template <int dim>
    std::unique_ptr<Problem::Interface<dim>>
    create_problem(dealii::ParameterHandler &prm, const std::filesystem::path &parameter_file);
  } // namespace plugin
} // namespace mpno
