/* step_hybrid: a deal.II program that solves its linear systems with mpno's hybrid solver.
 *
 * Introduction
 * ------------
 * The program solves the Darcy problem of the FNO paper, -div(a grad u) = 1 on the unit
 * square with u = 0 on the boundary, where the coefficient a takes the values 12 and 3
 * on the two sides of the zero level set of a Gaussian random field. It is an ordinary
 * deal.II program (step-6 without refinement): it owns its mesh, its finite element,
 * its matrix and its algebraic multigrid preconditioner. The only new thing is the
 * solve: instead of calling SolverCG itself, it hands the assembled system to
 * mpno::HybridSolver, which asks a neural operator trained by `mpno run` for a
 * prediction of u, uses it according to the selected strategy (e.g. as the initial guess
 * of CG), and checks the true residual, so the answer is exactly as accurate as the
 * classical solve's. The program then solves again classically and compares.
 *
 * Only deal.II's and mpno's public headers are included: no LibTorch header is needed.
 */

#include <deal.II/base/function.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/base/timer.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>
#include <deal.II/numerics/data_out.h>
#include <deal.II/numerics/vector_tools.h>

// GridFunction and GaussianRandomField describe the coefficient; HybridSolver solves.
#include <mpno/coupling/darcy.h>
#include <mpno/coupling/random_field.h>
#include <mpno/plugin/hybrid_solver.h>

#include <fstream>
#include <iomanip>
#include <iostream>

namespace StepHybrid
{
  using namespace dealii;

  /* The commented program
   * ---------------------
   * The class has the usual members of a tutorial program; `hybrid` is the one addition.
   * Its parameters are `subsection Darcy` (the program's own) and `subsection Hybrid
   * solver` (declared by mpno::HybridSolver: Strategy, Checkpoint, tolerances, the
   * inference grid).
   */
  class DarcyProblem
  {
  public:
    DarcyProblem();

    static void
    declare_parameters(ParameterHandler &prm);

    void
    run(ParameterHandler &prm, const std::string &parameter_file, const std::string &checkpoint);

  private:
    void
    make_grid_and_dofs();
    void
    make_coefficient();
    void
    assemble_system();
    void
    solve(const std::string &checkpoint);
    void
    output_results() const;

    unsigned int n_cells = 32, n_coefficient_points = 16, seed = 1;
    std::string  output_file;

    Triangulation<2>                  triangulation;
    FE_Q<2>                           fe;
    DoFHandler<2>                     dof_handler;
    MappingQ1<2>                      mapping;
    AffineConstraints<double>         constraints;
    TrilinosWrappers::SparseMatrix    system_matrix;
    Vector<double>                    system_rhs, solution, classical_solution;
    TrilinosWrappers::PreconditionAMG amg;
    std::unique_ptr<Function<2>>      coefficient;
    mpno::HybridSolver<2>             hybrid;
  };


  DarcyProblem::DarcyProblem()
    : fe(1)
    , dof_handler(triangulation)
  {
  }


  void
  DarcyProblem::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Darcy");
    prm.declare_entry("Cells per side", "32", Patterns::Integer(2, 4096), "Cells per side of the mesh.");
    prm.declare_entry("Coefficient grid points",
                      "16",
                      Patterns::Integer(2, 4096),
                      "Points per side of the grid on which the random field is drawn and "
                      "thresholded to 12 / 3; use the value the surrogate was trained with.");
    prm.declare_entry("Seed", "1000001", Patterns::Integer(0), "Seed of the random coefficient.");
    prm.declare_entry("Output file", "step_hybrid.vtu", Patterns::FileName(), "The VTU file written.");
    prm.leave_subsection();
    mpno::HybridSolver<2>::declare_parameters(prm);
  }


  /* The mesh, the zero Dirichlet constraints and the sparsity pattern, as in step-6. The
   * Trilinos matrix lives on MPI_COMM_SELF: every process solves its own problem. */
  void
  DarcyProblem::make_grid_and_dofs()
  {
    GridGenerator::subdivided_hyper_cube(triangulation, n_cells, 0., 1.);
    dof_handler.distribute_dofs(fe);
    VectorTools::interpolate_boundary_values(dof_handler, 0, Functions::ZeroFunction<2>(), constraints);
    constraints.close();
    DynamicSparsityPattern dsp(dof_handler.n_dofs());
    DoFTools::make_sparsity_pattern(dof_handler, dsp, constraints, false);
    system_matrix.reinit(complete_index_set(dof_handler.n_dofs()), dsp, MPI_COMM_SELF);
    system_rhs.reinit(dof_handler.n_dofs());
    solution.reinit(dof_handler.n_dofs());
    std::cout << "Mesh: " << n_cells << "^2 cells, " << dof_handler.n_dofs() << " DoFs" << std::endl;
  }


  /* The coefficient is a dealii::Function like any other. Here it is the training
   * distribution of the `darcy` problem (a Gaussian random field thresholded to 12 / 3,
   * constant around each grid point), which a surrogate trained by `mpno run` knows; a
   * program may define any Function of the same kind. */
  void
  DarcyProblem::make_coefficient()
  {
    const mpno::GaussianRandomField<2> field(n_coefficient_points, 2., 3.);
    coefficient = std::make_unique<mpno::GridFunction>(n_coefficient_points,
                                                       n_coefficient_points,
                                                       mpno::threshold(field.sample(seed), 12., 3.));
  }


  /* The Galerkin system and its AMG, with the settings mpno's own Darcy problem uses. */
  void
  DarcyProblem::assemble_system()
  {
    const QGauss<2>                      quadrature(fe.degree + 1);
    FEValues<2>                          fe_values(fe,
                          quadrature,
                          update_values | update_gradients | update_quadrature_points | update_JxW_values);
    FullMatrix<double>                   cell_matrix(fe.n_dofs_per_cell(), fe.n_dofs_per_cell());
    Vector<double>                       cell_rhs(fe.n_dofs_per_cell());
    std::vector<double>                  a(quadrature.size());
    std::vector<types::global_dof_index> dof_indices(fe.n_dofs_per_cell());
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        coefficient->value_list(fe_values.get_quadrature_points(), a);
        cell_matrix = 0;
        cell_rhs    = 0;
        for (const unsigned int q : fe_values.quadrature_point_indices())
          for (const unsigned int i : fe_values.dof_indices())
            {
              for (const unsigned int j : fe_values.dof_indices())
                cell_matrix(i, j) += a[q] * fe_values.shape_grad(i, q) * fe_values.shape_grad(j, q) * fe_values.JxW(q);
              cell_rhs(i) += fe_values.shape_value(i, q) * fe_values.JxW(q);
            }
        cell->get_dof_indices(dof_indices);
        constraints.distribute_local_to_global(cell_matrix, cell_rhs, dof_indices, system_matrix, system_rhs);
      }
    system_matrix.compress(VectorOperation::add);

    TrilinosWrappers::PreconditionAMG::AdditionalData data;
    data.elliptic        = true;
    data.smoother_type   = "Chebyshev";
    data.smoother_sweeps = 2;
    amg.initialize(system_matrix, data);
  }


  /* The hybrid solve. initialize() connects the operator's uniform grid on the unit
   * square to the DoFs and loads the checkpoint; solve() takes the system (non-owning
   * pointers) and the operator's input channels, here the one a `darcy` surrogate was
   * trained with: the coefficient. solve_classically() is CG + AMG from zero with the
   * same tolerance, the baseline. */
  void
  DarcyProblem::solve(const std::string &checkpoint)
  {
    hybrid.initialize(mapping, dof_handler, Point<2>(0., 0.), Point<2>(1., 1.), checkpoint);
    std::cout << "Surrogate: " << hybrid.surrogate_description() << std::endl;
    const mpno::LinearSystem system{&system_matrix, &system_rhs, &constraints, &amg};

    const mpno::HybridSolveReport report = hybrid.solve(system, {coefficient.get()}, solution);
    classical_solution.reinit(dof_handler.n_dofs());
    const mpno::HybridSolveReport baseline = hybrid.solve_classically(system, classical_solution);

    const auto print = [](const std::string &name, const mpno::HybridSolveReport &r) {
      std::cout << std::left << std::setw(26) << name << std::right << std::setw(4) << r.result.krylov.iterations
                << " iterations, relative residual " << std::scientific << std::setprecision(2)
                << r.result.krylov.initial_relative_residual << " -> " << r.result.krylov.final_relative_residual
                << std::defaultfloat << ", " << 1e3 * r.total_seconds() << " ms" << std::endl;
    };
    print("Classical (CG + AMG):", baseline);
    print("Hybrid (" + report.strategy + "):", report);
    std::cout << "  inference " << 1e3 * report.inference_seconds << " ms, transfer " << 1e3 * report.transfer_seconds
              << " ms, solve " << 1e3 * report.solve_seconds << " ms"
              << (report.result.used_prediction ? "" : ", prediction not used: " + report.result.fallback_reason)
              << std::endl;
    Vector<double> difference = solution;
    difference -= classical_solution;
    std::cout << "||u_hybrid - u_classical|| / ||u_classical|| = "
              << difference.l2_norm() / classical_solution.l2_norm() << std::endl;
    std::cout << "Final relative residual: " << std::scientific << system.relative_residual(solution)
              << std::defaultfloat << std::endl;
  }


  /* The solution, the surrogate's prediction and the coefficient, for ParaView. */
  void
  DarcyProblem::output_results() const
  {
    Vector<double> a(dof_handler.n_dofs());
    VectorTools::interpolate(mapping, dof_handler, *coefficient, a);
    DataOut<2> data_out;
    data_out.attach_dof_handler(dof_handler);
    data_out.add_data_vector(solution, "solution");
    data_out.add_data_vector(a, "coefficient");
    if (hybrid.last_prediction().size() == dof_handler.n_dofs())
      data_out.add_data_vector(hybrid.last_prediction(), "prediction");
    data_out.build_patches();
    std::ofstream out(output_file);
    data_out.write_vtu(out);
    std::cout << "Wrote " << output_file << std::endl;
  }


  void
  DarcyProblem::run(ParameterHandler &prm, const std::string &parameter_file, const std::string &checkpoint)
  {
    prm.enter_subsection("Darcy");
    n_cells              = prm.get_integer("Cells per side");
    n_coefficient_points = prm.get_integer("Coefficient grid points");
    seed                 = prm.get_integer("Seed");
    output_file          = prm.get("Output file");
    prm.leave_subsection();
    hybrid.parse_parameters(prm, parameter_file);

    Timer timer;
    make_grid_and_dofs();
    make_coefficient();
    assemble_system();
    std::cout << "Assembly and AMG setup: " << 1e3 * timer.wall_time() << " ms" << std::endl;
    solve(checkpoint);
    output_results();
  }
} // namespace StepHybrid


/* main(): MPI (Trilinos needs it), the parameter file, and an optional
 * `--checkpoint DIR` that overrides `Hybrid solver/Checkpoint`. */
int
main(int argc, char **argv)
{
  try
    {
      dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
      if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--checkpoint"))
        {
          std::cerr << "Usage: step_hybrid FILE.prm [--checkpoint DIR]" << std::endl;
          return 1;
        }
      dealii::ParameterHandler prm;
      StepHybrid::DarcyProblem::declare_parameters(prm);
      prm.parse_input(argv[1]);

      StepHybrid::DarcyProblem problem;
      problem.run(prm, argv[1], argc == 4 ? argv[3] : "");
    }
  catch (const std::exception &exc)
    {
      std::cerr << "step_hybrid: error: " << exc.what() << std::endl;
      return 1;
    }
  return 0;
}
