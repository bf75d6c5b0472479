#pragma once

// The main job's commands besides `mpno train` (design.md "Data flow of the main job"):
// `mpno generate`, `mpno solve`, `mpno run` and `mpno validate`, each taking
// `FILE.prm [--output DIR]`. No LibTorch header here.

#include <filesystem>
#include <ostream>
#include <string>

namespace mpno
{
  namespace plugin
  {
    /**
     * Solve `Data generation/Training instances` and `Test instances` of the Problem
     * classically and write the input fields and solutions, sampled on uniform grids, to
     * OUTPUT/dataset.h5 (sets `train` and `test_N`; Export pt adds NAME.pt files), and
     * summary.json with the "generation" figures.
     * @throws UserError naming the entry and the file for bad parameters.
     */
    void
    run_generate_command(const std::filesystem::path &parameter_file,
                         const std::string           &output_override,
                         std::ostream                &log);

    /**
     * Solve `Hybrid solver/Instances` held-out instances of the Problem from zero (the
     * baseline) and with the selected strategy and the trained surrogate; write
     * hybrid.csv (one row per instance), solution-NNN.vtu for the first `VTU instances`,
     * and the "hybrid" figures into summary.json (keeping the training figures there).
     * @throws UserError naming the entry and the file for bad parameters or a missing
     *   checkpoint; dealii::SolverControl::NoConvergence if a solve fails.
     */
    void
    run_solve_command(const std::filesystem::path &parameter_file,
                      const std::string           &output_override,
                      std::ostream                &log);

    /** generate, train (on OUTPUT/dataset.h5 unless `Data/Training file` names a file),
     *  then solve. */
    void
    run_run_command(const std::filesystem::path &parameter_file, const std::string &output_override, std::ostream &log);

    /**
     * Check @p parameter_file without running anything: libraries load, every entry is
     * known and within its pattern, the problem, model, strategy and precision accept
     * their values, named data files exist. Prints "FILE: valid" to @p log.
     * @throws UserError naming the entry and the file for the first problem found.
     */
    void
    run_validate_command(const std::filesystem::path &parameter_file,
                         const std::string           &output_override,
                         std::ostream                &log);
  } // namespace plugin
} // namespace mpno
