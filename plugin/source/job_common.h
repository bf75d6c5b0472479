#pragma once

// Internal to libmpno_plugin: what the main job's commands share: the parsed parameter
// file with its dimension, progress lines, small formatting helpers. No LibTorch header.

#include <deal.II/base/parameter_handler.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace mpno
{
  namespace plugin
  {
    /** The parameter file of a command, declared for its `Dimension` and parsed. */
    struct JobContext
    {
      /**
       * Load the `Additional shared libraries`, read `Dimension`, declare every entry,
       * parse the file, resolve `Output directory` (or @p output_override) and set
       * LibTorch's thread count to `Number of threads`.
       * @throws UserError naming the entry and the file.
       */
      JobContext(const std::filesystem::path &parameter_file, const std::string &output_override);

      std::filesystem::path    parameter_file;
      std::filesystem::path    output_directory;
      int                      dimension = 2;
      int                      threads   = 1;
      std::string              problem_name; ///< `Problem/Name`
      dealii::ParameterHandler prm;
    };

    /** A progress line for a long loop of @p total steps, printed when 10% more are done
     *  or 10 s passed, and at the end. */
    class Progress
    {
    public:
      Progress(std::string stage, std::size_t total, std::ostream &log);

      /** One step done; @p detail is appended to the line. */
      void
      advance(const std::string &detail = "");

      /** Steps done so far plus one (for running means before advance()). */
      std::size_t
      done_plus_one() const
      {
        return done + 1;
      }

    private:
      std::string                           stage;
      std::size_t                           total;
      std::size_t                           done         = 0;
      std::size_t                           last_printed = 0;
      std::ostream                         &log;
      std::chrono::steady_clock::time_point start;
      std::chrono::steady_clock::time_point last_time;
    };

    /** The message of @p error alone: deal.II's print_info() for a dealii::ExceptionBase
     *  (without the file, line and stack trace of what()), LibTorch's message without
     *  its backtrace for a c10::Error, what() otherwise. */
    std::string
    message_of(const std::exception &error);

    /** @p value with @p digits significant digits. */
    std::string
    format_number(double value, int digits = 4);

    /** A grid shape for the log: "32^2" when all axes have the same number of points,
     *  else "33 x 64". */
    template <std::size_t n>
    std::string
    grid_shape_text(const std::array<unsigned int, n> &shape)
    {
      std::string text = std::to_string(shape[0]);
      if (std::all_of(shape.begin(), shape.end(), [&](unsigned int s) { return s == shape[0]; }))
        return text + "^" + std::to_string(n);
      for (std::size_t d = 1; d < n; ++d)
        text += " x " + std::to_string(shape[d]);
      return text;
    }

    /** The strings joined by ", ". */
    std::string
    join(const std::vector<std::string> &items);
  } // namespace plugin
} // namespace mpno
