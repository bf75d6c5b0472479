#pragma once

// The hybrid solver a deal.II program calls in place of its CG + AMG solve (design.md
// "Data flow of the main job"): the surrogate's prediction, mapped into the FE space,
// enters the classical solve through the selected HybridStrategy, and the true residual
// decides convergence. deal.II and mpno headers only: no LibTorch header reaches the user.

#include <deal.II/base/function.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/point.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/lac/vector.h>

#include <mpno/coupling/dataset_file.h>
#include <mpno/coupling/field_transfer.h>
#include <mpno/coupling/linear_solve.h>
#include <mpno/plugin/hybrid_strategy.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mpno
{
  class SurrogateModel;

  /** Figures of one HybridSolver::solve(). Times are wall-clock seconds. */
  struct HybridSolveReport
  {
    std::string            strategy;              ///< the strategy's name
    HybridStrategy::Result result;                ///< the Krylov solve and whether the prediction was used
    double                 inference_seconds = 0; ///< the surrogate's forward pass
    double                 transfer_seconds  = 0; ///< input fields -> grid and prediction grid -> FE
    double                 solve_seconds     = 0; ///< the strategy's solve (residual checks included)

    double
    total_seconds() const
    {
      return inference_seconds + transfer_seconds + solve_seconds;
    }
  };

  /**
   * Solves assembled linear systems with a trained neural operator's help, configured
   * from `subsection Hybrid solver` of a parameter file:
   *
   * @code
   * mpno::HybridSolver<2> hybrid;
   * mpno::HybridSolver<2>::declare_parameters(prm);
   * prm.parse_input("hybrid.prm");
   * hybrid.parse_parameters(prm, "hybrid.prm");
   * hybrid.initialize(mapping, dof_handler, lower, upper); // loads the checkpoint
   * const mpno::HybridSolveReport report =
   *   hybrid.solve({&system_matrix, &system_rhs, &constraints, &amg}, {&coefficient}, solution);
   * @endcode
   *
   * The input fields (the operator's input channels, as dealii::Function objects) are
   * evaluated at the points of the operator's grid, and the prediction on that grid is
   * brought to the FE space, by a FieldTransfer: by default a uniform grid of `Inference
   * grid points` per axis on the box [lower, upper] with multilinear interpolation at the
   * DoFs' support points (GridTransfer), or the problem's own
   * (Problem::Interface::make_field_transfer(), e.g. a latitude-longitude grid on the
   * sphere). The prediction is handed to the strategy.
   */
  template <int dim>
  class HybridSolver
  {
  public:
    HybridSolver();
    ~HybridSolver();
    HybridSolver(HybridSolver &&) noexcept;
    HybridSolver &
    operator=(HybridSolver &&) noexcept;

    /** Declare `subsection Hybrid solver` (the strategies' entries included). */
    static void
    declare_parameters(dealii::ParameterHandler &prm);

    /**
     * Read `subsection Hybrid solver`; a relative `Checkpoint` is resolved against the
     * directory of @p parameter_file.
     * @throws std::invalid_argument naming the entry for a value the pattern admits but
     *   the solver forbids.
     */
    void
    parse_parameters(dealii::ParameterHandler &prm, const std::filesystem::path &parameter_file = {});

    /**
     * Set up the transfer between the operator's grid on [@p lower, @p upper] and the FE
     * space of @p dof_handler (which, with @p mapping, must outlive this object), and load
     * the surrogate from `Checkpoint` (or @p checkpoint if not empty) unless the strategy
     * does not use it or set_surrogate() gave one.
     * @throws std::runtime_error naming the checkpoint if it cannot be loaded.
     */
    void
    initialize(const dealii::Mapping<dim>    &mapping,
               const dealii::DoFHandler<dim> &dof_handler,
               const dealii::Point<dim>      &lower,
               const dealii::Point<dim>      &upper,
               const std::filesystem::path   &checkpoint = {});

    /**
     * As above, with the transfer @p transfer between the FE space and the operator's
     * grid (Problem::Interface::make_field_transfer(inference_grid_points())), shared
     * with the caller.
     * @throws std::invalid_argument for a null @p transfer; std::runtime_error as above.
     */
    void
    initialize(std::shared_ptr<const FieldTransfer<dim>> transfer, const std::filesystem::path &checkpoint = {});

    /**
     * Set up for a problem whose geometry varies with the instance
     * (Problem::Interface::geometry_varies()): no fixed grid or transfer; the surrogate
     * (a point-cloud model, GINO) is loaded from `Checkpoint` (or @p checkpoint) unless
     * the strategy does not use it. Solve with solve(system, layout, cloud, solution).
     * @throws std::invalid_argument for a strategy that applies the surrogate to
     *   residuals (`preconditioner`: it needs a fixed grid transfer) and for
     *   `Inference grid points` other than the latent grid the surrogate was trained on
     *   (SurrogateModel::latent_grid_shape()); std::runtime_error as initialize().
     */
    void
    initialize_point_clouds(const std::filesystem::path &checkpoint = {});

    /** Where initialize() loads the surrogate: "cpu", "cuda" or "auto" (the default:
     *  cuda when LibTorch sees a CUDA device); call before initialize(). */
    void
    set_device(const std::string &device);

    /** Use @p model as the surrogate (instead of loading `Checkpoint`). */
    void
    set_surrogate(std::shared_ptr<const SurrogateModel> model);

    /**
     * Solve @p system with the selected strategy into @p solution; @p input_fields are
     * the operator's input channels of this instance (not used by strategy `none`).
     * @throws std::invalid_argument if the number of input fields differs from the
     *   model's input channels; dealii::SolverControl::NoConvergence if the tolerance is
     *   not reached within `Max iterations`.
     */
    HybridSolveReport
    solve(const LinearSystem                               &system,
          const std::vector<const dealii::Function<dim> *> &input_fields,
          dealii::Vector<double>                           &solution);

    /**
     * Solve @p system with the selected strategy; the prediction (if used) is the
     * surrogate's for the point cloud @p cloud (points = the DoFs' support points in DoF
     * order, input values, latent features; without y) in the layout of @p layout (its
     * latent grid and channels, e.g. PointCloudSampler::empty_set()): its values at the
     * points are the FE nodal values, so the transfer is the identity.
     * @throws std::logic_error before initialize_point_clouds(); std::invalid_argument
     *   if the prediction's size differs from b's; as solve() otherwise.
     */
    HybridSolveReport
    solve(const LinearSystem      &system,
          const PointCloudDataSet &layout,
          const PointCloudSample  &cloud,
          dealii::Vector<double>  &solution);

    /** The classical baseline: CG + the system's preconditioner from zero (strategy
     *  `none`), with the same tolerance. */
    HybridSolveReport
    solve_classically(const LinearSystem &system, dealii::Vector<double> &solution) const;

    /**
     * The surrogate's prediction for @p input_fields in the FE space (size n_dofs) into
     * @p prediction; adds the times to @p report when given.
     */
    void
    predict(const std::vector<const dealii::Function<dim> *> &input_fields,
            dealii::Vector<double>                           &prediction,
            HybridSolveReport                                *report = nullptr) const;

    /**
     * The surrogate as an approximate inverse of @p system's matrix, as strategy
     * `preconditioner` applies it: @p correction = NO(@p residual), the residual's density
     * on the grid (scaled to the training inputs' size) in place of the last input channel
     * of @p input_fields. Adds the times to @p report when given.
     * @throws std::invalid_argument for a surrogate with fewer than two input channels or
     *   a number of fields that differs from them.
     */
    void
    apply_surrogate(const LinearSystem                               &system,
                    const std::vector<const dealii::Function<dim> *> &input_fields,
                    const dealii::Vector<double>                     &residual,
                    dealii::Vector<double>                           &correction,
                    HybridSolveReport                                *report = nullptr) const;

    /** The prediction of the last solve() (empty if the strategy did not use one). */
    const dealii::Vector<double> &
    last_prediction() const;

    /** The FE field @p fe_field restricted to the inference grid and interpolated back:
     *  the part of it the operator's grid resolves (used to split errors into smooth
     *  and rough parts). */
    void
    grid_projection(const dealii::Vector<double> &fe_field, dealii::Vector<double> &projected) const;

    const KrylovSettings &
    krylov_settings() const;

    const std::string &
    strategy_name() const;

    /** Whether the strategy uses the surrogate's prediction. */
    bool
    uses_prediction() const;

    /** `Inference grid points` per axis. */
    unsigned int
    inference_grid_points() const;

    /** The surrogate's description; empty when none is loaded. */
    std::string
    surrogate_description() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl;
  };
} // namespace mpno
