#pragma once

// The `Problem<dim>` plugin system: a deal.II simulation the framework drives (design.md
// "Plugin systems"), selected with `set Problem = NAME` and configured in
// `subsection Problem/NAME`. deal.II only: no LibTorch header here, so a user's problem
// compiles against deal.II and mpno's headers alone.

#include <deal.II/base/function.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/point.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/field_transfer.h>
#include <mpno/coupling/linear_solve.h>
#include <mpno/plugin/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mpno
{
  namespace Problem
  {
    /** What Interface::classical_start() or Interface::solve_nonlinear() did. */
    struct NonlinearSolveReport
    {
      /** Whether the nonlinear residual reached the problem's tolerance. */
      bool converged = false;
      /** How it ended, e.g. "converged", "max steps", "line search failed". */
      std::string status;
      /** Newton (or other nonlinear) steps; 0 for classical_start(). */
      unsigned int steps = 0;
      /** Linear solver iterations over all steps. */
      unsigned int linear_iterations = 0;
      /** ||R(u)|| / ||R(0)|| before and after (R the nonlinear residual). */
      double initial_relative_residual = 0;
      double final_relative_residual   = 0;
      /** Seconds of the solve's assemblies, preconditioner setups and linear solves (the
       *  sum of their wall-clock times). */
      double seconds = 0;
    };

    /**
     * A family of linear boundary value problems whose instances differ by random inputs
     * (coefficients, forcing) drawn from a seed, on a fixed mesh: the neural operator
     * learns the map from the input fields, sampled on a grid, to the solution sampled on
     * the same grid. A problem whose geometry changes with the seed says so by
     * geometry_varies() and is seen as point clouds instead (support_points(),
     * basis_integrals(), signed_distance(); model gino).
     *
     * A problem on a box mesh (DoFHandler<dim>, the grid a uniform one on bounding_box())
     * implements get_dof_handler(), get_mapping() and bounding_box(); the framework then
     * uses GridTransfer, VectorTools and DataOut through the defaults of
     * make_field_transfer(), n_dofs(), l2_norm() and solution_vtu(). A problem whose
     * mesh is of another kind, e.g. a surface mesh Triangulation<2, 3> with a
     * latitude-longitude grid (problem `sphere`), overrides those four instead and keeps
     * the three defaults, which throw std::logic_error.
     *
     * The framework calls, in this order: the static `declare_parameters(prm)` (inside
     * `subsection Problem`; a plugin declares its own subsection there), the constructor,
     * parse_parameters(), setup() once, then per instance sample(seed), assemble(),
     * and a solve of linear_system() (by solve_cg() or a hybrid strategy). A plugin is
     * registered with MPNO_REGISTER_PROBLEM.
     *
     * A nonlinear problem (is_nonlinear() true, e.g. `nonlinear darcy`) is solved by
     * classical_start() then solve_nonlinear() instead: `mpno generate` takes its data from
     * there, and `mpno solve` compares Newton from classical_start() with Newton from the
     * surrogate's prediction (strategy `initial guess`). Its assemble() and
     * linear_system() are its linearisation at u = 0.
     */
    template <int dim>
    class Interface
    {
    public:
      virtual ~Interface() = default;

      /** Read the plugin's entries; @p prm is inside `subsection Problem`.
       *  @throws std::invalid_argument naming the entry for a value the pattern admits
       *  but the problem forbids. */
      virtual void
      parse_parameters(dealii::ParameterHandler &prm) = 0;

      /** Build the mesh, the DoFs, the constraints and the sparsity pattern. */
      virtual void
      setup() = 0;

      /** Draw the instance of @p seed: the same seed gives the same inputs. */
      virtual void
      sample(std::uint64_t seed) = 0;

      /** The names of the operator's input channels, e.g. {"coefficient"}. */
      virtual std::vector<std::string>
      input_names() const = 0;

      /** Input channel @p channel of the current instance as a function of space (for
       *  sampling onto grids and for output). */
      virtual const dealii::Function<dim> &
      input_field(unsigned int channel) const = 0;

      /** The name of the solution, the operator's output channel. */
      virtual std::string
      output_name() const
      {
        return "solution";
      }

      /** Assemble the current instance's system; its preconditioner may be built here or
       *  on first use (LinearSystem::make_preconditioner). */
      virtual void
      assemble() = 0;

      /** The assembled system of the current instance (valid until the next assemble()). */
      virtual LinearSystem
      linear_system() const = 0;

      /** The DoFHandler of a problem on a box mesh (see the class documentation).
       *  @throws std::logic_error unless overridden. */
      virtual const dealii::DoFHandler<dim> &
      get_dof_handler() const;

      /** The mapping of get_dof_handler()'s mesh. @throws std::logic_error unless
       *  overridden. */
      virtual const dealii::Mapping<dim> &
      get_mapping() const;

      /** Lower and upper corner of the box the operator's grid covers (mesh units).
       *  @throws std::logic_error unless overridden. */
      virtual std::pair<dealii::Point<dim>, dealii::Point<dim>>
      bounding_box() const;

      /**
       * The transfer between the FE space (after setup()) and the operator's grid of
       * resolution @p grid_points, the value of the entries `Data generation/Training
       * grid points`, `Test grid points` and `Hybrid solver/Inference grid points`.
       * Input fields are sampled at its grid_point()s. Default: GridTransfer with
       * @p grid_points points per axis on bounding_box().
       */
      virtual std::unique_ptr<FieldTransfer<dim>>
      make_field_transfer(unsigned int grid_points) const;

      /** The size of FE vectors. Default: get_dof_handler().n_dofs(). */
      virtual dealii::types::global_dof_index
      n_dofs() const;

      /** ||u||_{L2} of the FE field @p u over the domain. Default: VectorTools::
       *  integrate_difference with QGauss(p + 1) on get_dof_handler(). */
      virtual double
      l2_norm(const dealii::Vector<double> &u) const;

      /**
       * A VTU document (ParaView) of the current instance: the input fields as cell data
       * (values at the cell centres), @p solution named output_name(), and, when
       * @p prediction has the same size, "prediction" and "prediction_error" (prediction -
       * solution). Default: DataOut<dim> on get_dof_handler().
       */
      virtual std::string
      solution_vtu(const dealii::Vector<double> &solution, const dealii::Vector<double> &prediction) const;

      /**
       * Whether the mesh changes with the instance (geometry drawn in sample()), as for
       * problem `holes`. The framework then treats each instance as a point cloud
       * (design.md "Data flow"; method.md Sec. 4.3, GINO): the support points of its DoFs
       * with the input fields there, the solution at them, basis_integrals() as
       * quadrature weights, and signed_distance() on a latent grid of bounding_box();
       * `mpno generate` writes point-cloud sets (write_point_cloud_set()), and n_dofs(),
       * linear_system() and the FE vectors refer to the current instance. Default: false
       * (one mesh for all instances, the data on grids).
       */
      virtual bool
      geometry_varies() const
      {
        return false;
      }

      /** The support point of each DoF of the current instance (a scalar nodal element),
       *  indexed by DoF, in mesh units. Default: DoFTools::map_dofs_to_support_points()
       *  on get_mapping() and get_dof_handler(). */
      virtual std::vector<dealii::Point<dim>>
      support_points() const;

      /** int_Omega phi_i for each DoF i of the current instance (the lumped mass): the
       *  weights of the discrete L2 norm sum_i w_i u_i^2 on the point cloud. Default:
       *  VectorTools::create_right_hand_side() of 1 with QGauss(p + 1) on get_dof_handler(). */
      virtual dealii::Vector<double>
      basis_integrals() const;

      /** The signed distance (mesh units; > 0 in the domain, < 0 outside) of each of
       *  @p points to the boundary of the current instance's domain, the geometry the
       *  operator sees on its latent grid. @throws std::logic_error unless overridden. */
      virtual std::vector<double>
      signed_distance(const std::vector<dealii::Point<dim>> &points) const;

      /** "name = value" pairs describing the problem's parameters, stored with the data. */
      virtual std::vector<std::pair<std::string, std::string>>
      attributes() const
      {
        return {};
      }

      /** Whether the problem is nonlinear (see the class documentation). Default: false. */
      virtual bool
      is_nonlinear() const
      {
        return false;
      }

      /**
       * A nonlinear problem's classical starting point for the current instance into @p u
       * (size n_dofs(); e.g. zero, or the solution of the linearised problem), its cost in
       * the report. @throws std::logic_error unless overridden (linear problems);
       * dealii::SolverControl::NoConvergence when a linear solve it needs does not converge.
       */
      virtual NonlinearSolveReport
      classical_start(dealii::Vector<double> &u);

      /**
       * Solve the current instance's nonlinear problem from @p u (in: the initial guess,
       * size n_dofs(), its constrained entries overwritten; out: the last iterate) to the
       * problem's own tolerance. Never throws for non-convergence: the report says how it
       * ended. @throws std::logic_error unless overridden (linear problems).
       */
      virtual NonlinearSolveReport
      solve_nonlinear(dealii::Vector<double> &u);
    };

    /** The registry of problems in @p dim space dimensions (one per process, in
     *  libmpno_plugin). Instantiated for dim = 2 and 3. */
    template <int dim>
    plugin::Registry<Interface<dim>> &
    registry();
  } // namespace Problem
} // namespace mpno

/**
 * Register the problem @p classname (derived from mpno::Problem::Interface<@p dim>,
 * default constructible, with a static declare_parameters(ParameterHandler &)) in @p dim
 * dimensions as @p name with the documentation @p doc; used at namespace scope of its .cc.
 */
#define MPNO_REGISTER_PROBLEM(dim, classname, name, doc)                                                  \
  namespace                                                                                               \
  {                                                                                                       \
    const auto MPNO_PLUGIN_CONCAT(mpno_problem_registration_, __LINE__) = ::mpno::plugin::RegisterPlugin< \
      ::mpno::Problem::Interface<dim>>::make<classname>(::mpno::Problem::registry<dim>(), name, doc);     \
  }
