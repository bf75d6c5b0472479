#include <deal.II/base/exceptions.h>
#include <deal.II/base/parameter_handler.h>

#include <mpno/plugin/parameters.h>
#include <mpno/plugin/problem.h>

#include "job_common.h"

#include <c10/util/Exception.h>
#include <torch/utils.h>

#include <iomanip>
#include <sstream>

namespace mpno
{
  namespace plugin
  {
    JobContext::JobContext(const std::filesystem::path &file, const std::string &output_override)
      : parameter_file(file)
    {
      load_shared_libraries(parameter_file);
      dimension = read_dimension(parameter_file);
      declare_parameters(prm, dimension);
      try
        {
          parse_parameter_file(prm, parameter_file);
        }
      catch (const UserError &error)
        {
          // A problem's subsection is declared only in its dimensions: say so.
          const std::string text = error.what();
          if (text.find("Problem.") == std::string::npos)
            throw;
          const std::string names = dimension == 3 ? Problem::registry<3>().names() : Problem::registry<2>().names();
          throw UserError(text + "\n(with 'Dimension' = " + std::to_string(dimension) +
                          " the problems are: " + (names.empty() ? std::string("none") : names) +
                          "; each declares its subsection only in the dimensions it supports)");
        }
      output_directory = output_override.empty() ? std::filesystem::path(prm.get("Output directory")) :
                                                   std::filesystem::path(output_override);
      if (output_directory.empty())
        throw UserError("in parameter file '" + parameter_file.string() + "', entry 'Output directory' is empty");
      threads = prm.get_integer("Number of threads");
      torch::set_num_threads(threads);
      prm.enter_subsection("Problem");
      problem_name = prm.get("Name");
      prm.leave_subsection();
    }

    Progress::Progress(std::string stage_, const std::size_t total_, std::ostream &log_)
      : stage(std::move(stage_))
      , total(total_)
      , log(log_)
      , start(std::chrono::steady_clock::now())
      , last_time(start)
    {
    }

    void
    Progress::advance(const std::string &detail)
    {
      ++done;
      const auto   now     = std::chrono::steady_clock::now();
      const double elapsed = std::chrono::duration<double>(now - start).count();
      if (done == total || (done - last_printed) * 10 >= total ||
          std::chrono::duration<double>(now - last_time).count() >= 10.)
        {
          log << stage << ": " << done << "/" << total << " (" << (100 * done / std::max<std::size_t>(total, 1))
              << "%), " << format_number(elapsed, 3) << " s" << (detail.empty() ? "" : ", " + detail) << std::endl;
          last_printed = done;
          last_time    = now;
        }
    }

    std::string
    message_of(const std::exception &error)
    {
      if (const auto *deal = dynamic_cast<const dealii::ExceptionBase *>(&error))
        {
          std::ostringstream out;
          deal->print_info(out);
          std::string text = out.str();
          while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
            text.pop_back();
          const auto start = text.find_first_not_of(" \n");
          return start == std::string::npos ? text : text.substr(start);
        }
      if (const auto *torch_error = dynamic_cast<const c10::Error *>(&error))
        return torch_error->what_without_backtrace();
      return error.what();
    }

    std::string
    format_number(const double value, const int digits)
    {
      std::ostringstream out;
      out << std::setprecision(digits) << value;
      return out.str();
    }

    std::string
    join(const std::vector<std::string> &items)
    {
      std::string result;
      for (const std::string &item : items)
        result += (result.empty() ? "" : ", ") + item;
      return result;
    }
  } // namespace plugin
} // namespace mpno
