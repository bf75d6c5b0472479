// The `mpno` program: `mpno generate|train|solve|run|evaluate|validate FILE.prm
// [--output DIR]`, `mpno print-parameters [FILE.prm]`, `mpno --help`. Errors are printed
// as one message (no stack trace) with exit code 1.
#include <deal.II/base/exceptions.h>
#include <deal.II/base/mpi.h>

#include <mpno/plugin/evaluate_command.h>
#include <mpno/plugin/job_commands.h>
#include <mpno/plugin/parameters.h>
#include <mpno/plugin/train_command.h>

#include <iostream>
#include <string>
#include <vector>

namespace
{
  void
  print_usage(std::ostream &out)
  {
    out << "Usage:\n"
        << "  mpno run FILE.prm [--output DIR]       the main job: generate, train, solve\n"
        << "  mpno generate FILE.prm [--output DIR]  solve instances of the Problem classically;\n"
        << "                                         writes DIR/dataset.h5 (sets train, test_N)\n"
        << "  mpno train FILE.prm [--output DIR]     train (or continue) the surrogate on\n"
        << "                                         `Data/Training file` (default\n"
        << "                                         DIR/dataset.h5); writes DIR/checkpoint/,\n"
        << "                                         DIR/history.csv and DIR/summary.json\n"
        << "  mpno solve FILE.prm [--output DIR]     held-out instances from zero and with the\n"
        << "                                         hybrid solver; writes DIR/hybrid.csv,\n"
        << "                                         DIR/solution-NNN.vtu, summary.json \"hybrid\"\n"
        << "  mpno evaluate FILE.prm [--output DIR]  evaluate the checkpoint named by the entry\n"
        << "                                         `Checkpoint` (default DIR/checkpoint) on\n"
        << "                                         the test sets; writes DIR/summary.json\n"
        << "  mpno validate FILE.prm                 check FILE.prm (entries, values, plugins,\n"
        << "                                         named files) without running anything\n"
        << "  mpno print-parameters [FILE.prm]       print every parameter with its default,\n"
        << "                                         pattern and documentation (with the\n"
        << "                                         plugins of FILE.prm's `Additional shared\n"
        << "                                         libraries`)\n"
        << "  mpno --help                            this text\n"
        << "\n"
        << "Relative data paths in FILE.prm are resolved against the directory of FILE.prm;\n"
        << "`Output directory` and --output against the working directory.\n";
  }

  /** `mpno COMMAND FILE.prm [--output DIR]`: parse the arguments and run @p run. */
  int
  run_with_parameter_file(const std::string              &command,
                          const std::vector<std::string> &args,
                          void (*run)(const std::filesystem::path &, const std::string &, std::ostream &))
  {
    std::string parameter_file, output;
    for (std::size_t i = 0; i < args.size(); ++i)
      {
        const std::string &arg = args[i];
        if (arg == "--help" || arg == "-h")
          {
            print_usage(std::cout);
            return 0;
          }
        if (arg == "--output" || arg == "-o")
          {
            if (i + 1 == args.size())
              throw mpno::plugin::UserError("--output needs a directory");
            output = args[++i];
          }
        else if (arg.rfind("--output=", 0) == 0)
          output = arg.substr(9);
        else if (!arg.empty() && arg[0] == '-')
          throw mpno::plugin::UserError("unknown option '" + arg + "' (see mpno --help)");
        else if (parameter_file.empty())
          parameter_file = arg;
        else
          throw mpno::plugin::UserError("mpno " + command + " takes one parameter file, got '" + parameter_file +
                                        "' and '" + arg + "'");
      }
    if (parameter_file.empty())
      throw mpno::plugin::UserError("mpno " + command + " needs a parameter file (see mpno --help)");
    run(parameter_file, output, std::cout);
    return 0;
  }
} // namespace

int
main(int argc, char **argv)
{
  // deal.II's MPI and thread set-up; LibTorch's threads are set from the parameter file.
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  try
    {
      const std::vector<std::string> args(argv + 1, argv + argc);
      if (args.empty())
        {
          print_usage(std::cerr);
          return 1;
        }
      const std::string &command = args.front();
      if (command == "--help" || command == "-h" || command == "help")
        {
          print_usage(std::cout);
          return 0;
        }
      if (command == "train")
        return run_with_parameter_file(command, {args.begin() + 1, args.end()}, mpno::plugin::run_train_command);
      if (command == "generate")
        return run_with_parameter_file(command, {args.begin() + 1, args.end()}, mpno::plugin::run_generate_command);
      if (command == "solve")
        return run_with_parameter_file(command, {args.begin() + 1, args.end()}, mpno::plugin::run_solve_command);
      if (command == "run")
        return run_with_parameter_file(command, {args.begin() + 1, args.end()}, mpno::plugin::run_run_command);
      if (command == "validate")
        return run_with_parameter_file(command, {args.begin() + 1, args.end()}, mpno::plugin::run_validate_command);
      if (command == "evaluate")
        return run_with_parameter_file(command, {args.begin() + 1, args.end()}, mpno::plugin::run_evaluate_command);
      if (command == "print-parameters")
        {
          if (args.size() > 2)
            throw mpno::plugin::UserError("mpno print-parameters takes at most one parameter file");
          mpno::plugin::print_train_parameters(std::cout, args.size() == 2 ? args[1] : std::string());
          return 0;
        }
      throw mpno::plugin::UserError("unknown command '" + command + "' (see mpno --help)");
    }
  catch (const dealii::ExceptionBase &error)
    {
      std::cerr << "mpno: error: ";
      error.print_info(std::cerr);
      std::cerr << std::endl;
      return 1;
    }
  catch (const std::exception &error)
    {
      std::cerr << "mpno: error: " << error.what() << std::endl;
      return 1;
    }
}
