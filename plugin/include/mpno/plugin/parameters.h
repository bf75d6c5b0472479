#pragma once

// The parameter file of the `mpno` commands (design.md "Parameter files"). deal.II
// only: no LibTorch header here, so user programs compile against it without LibTorch.

#include <deal.II/base/parameter_handler.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mpno
{
  namespace plugin
  {
    /**
     * An error in what the user gave (command line, parameter file, data files): the
     * `mpno` program prints its message, without a stack trace, and exits with 1.
     */
    class UserError : public std::runtime_error
    {
    public:
      using std::runtime_error::runtime_error;
    };

    /**
     * Declare every entry of mpno's parameter files for problems in @p dim dimensions:
     * top level `Additional shared libraries`, `Dimension`, `Output directory`, `Number
     * of threads`, `Device` and `Checkpoint`; the subsections `Problem` (`Name` and a
     * subsection per problem registered for @p dim), `Data generation`, `Surrogate`
     * (`Model` and a subsection per registered model), `Precision`, `Data`, `Training`
     * and `Hybrid solver` (with a subsection per strategy that has entries). Each entry
     * has a pattern and a documentation string with its unit or meaning; `mpno
     * print-parameters` prints them.
     */
    void
    declare_parameters(dealii::ParameterHandler &prm, int dim = 2);

    /**
     * The entry `Dimension` of @p parameter_file (2 when absent), read alone before the
     * other entries are declared, since the problems offered depend on it.
     * @throws UserError naming the entry and the file for a value other than 2 or 3.
     */
    int
    read_dimension(const std::filesystem::path &parameter_file);

    /**
     * Load each library of the entry `Additional shared libraries` of @p parameter_file
     * (read alone, before the other entries are declared) with dlopen(RTLD_NOW |
     * RTLD_GLOBAL), so that the plugins it registers exist when the parameters are
     * declared. Relative paths are resolved against the directory of the file. A missing
     * or unreadable file loads nothing (parse_parameter_file() reports it).
     * @return the paths loaded, in order.
     * @throws UserError naming the entry, the library's path, dlerror() and the file
     *   for a library that cannot be loaded.
     */
    std::vector<std::filesystem::path>
    load_shared_libraries(const std::filesystem::path &parameter_file);

    /**
     * Read @p file into @p prm (declared before).
     * @throws UserError naming the file, and the line and entry where deal.II says so:
     *   a missing file, an unknown entry or subsection, a value outside its pattern.
     */
    void
    parse_parameter_file(dealii::ParameterHandler &prm, const std::filesystem::path &file);

    /**
     * A path given in @p parameter_file: an absolute one as it is, a relative one
     * resolved against the directory of the parameter file (not the working
     * directory), so a .prm finds its data wherever it is run from.
     */
    std::filesystem::path
    resolve_path(const std::string &value, const std::filesystem::path &parameter_file);

    /**
     * Parse "name: path, name: path" (e.g. `Test files = 16: ../data/darcy_test_16.pt`)
     * into pairs in the given order; an empty value gives none.
     * @throws UserError naming @p entry and @p parameter_file for a pair without ':',
     *   an empty or repeated name, or a name with characters other than letters, digits,
     *   '_', '-' and '.'.
     */
    std::vector<std::pair<std::string, std::string>>
    parse_named_paths(const std::string &value, const std::string &entry, const std::filesystem::path &parameter_file);
  } // namespace plugin
} // namespace mpno
