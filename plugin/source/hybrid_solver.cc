#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/patterns.h>

#include <mpno/coupling/grid_transfer.h>
#include <mpno/coupling/surrogate_model.h>
#include <mpno/plugin/hybrid_solver.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace mpno
{
  using dealii::ParameterHandler;
  namespace Patterns = dealii::Patterns;

  namespace
  {
    double
    seconds_since(const std::chrono::steady_clock::time_point start)
    {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  } // namespace

  template <int dim>
  struct HybridSolver<dim>::Impl
  {
    std::string                                strategy_name = "initial guess";
    std::unique_ptr<HybridStrategy::Interface> strategy;
    KrylovSettings                             settings;
    unsigned int                               grid_points = 32;
    std::filesystem::path                      checkpoint;
    std::string                                device = "auto";
    std::shared_ptr<const SurrogateModel>      model;
    std::shared_ptr<const FieldTransfer<dim>>  transfer;
    dealii::Vector<double>                     prediction;
    /** Set by initialize_point_clouds(): a new geometry per instance, no transfer. */
    bool point_clouds = false;
    /** The lumped mass: the integrals of the basis functions (surrogate action). */
    dealii::Vector<double> lumped_mass;

    /** Load the surrogate from @p checkpoint, or `Checkpoint` when empty.
     *  @throws std::runtime_error naming the entry when neither is given. */
    void
    load_surrogate(const std::filesystem::path &checkpoint_override)
    {
      const std::filesystem::path path = checkpoint_override.empty() ? checkpoint : checkpoint_override;
      if (path.empty())
        throw std::runtime_error("entry 'Hybrid solver/Checkpoint': strategy '" + strategy_name +
                                 "' needs a surrogate, and no checkpoint was given");
      model = std::make_shared<const SurrogateModel>(path, device);
    }

    /** The SurrogateAction of @p system for the instance of @p input_fields: the residual's
     *  density on the grid, scaled to the size of the training inputs, replaces the last
     *  input channel; the prediction, scaled back, is the correction. Adds its times to
     *  @p report. */
    HybridStrategy::Interface::SurrogateAction
    surrogate_action(const LinearSystem                               &system,
                     const std::vector<const dealii::Function<dim> *> &input_fields,
                     HybridSolveReport                                &report) const;
  };

  template <int dim>
  HybridStrategy::Interface::SurrogateAction
  HybridSolver<dim>::Impl::surrogate_action(const LinearSystem                               &system,
                                            const std::vector<const dealii::Function<dim> *> &input_fields,
                                            HybridSolveReport                                &report) const
  {
    if (!transfer || !model)
      throw std::logic_error("HybridSolver: the surrogate action needs initialize() and a surrogate");
    const unsigned int k = model->n_input_channels() != 0 ? model->n_input_channels() : input_fields.size();
    if (k < 2 || input_fields.size() != k)
      throw std::invalid_argument("HybridSolver: strategy '" + strategy_name +
                                  "' needs a surrogate whose last input channel is the right-hand side (e.g. "
                                  "Problem darcy with Forcing = random) and all its input fields; the surrogate "
                                  "takes " +
                                  std::to_string(k) + " channel(s), " + std::to_string(input_fields.size()) +
                                  " field(s) given");
    const auto         start  = std::chrono::steady_clock::now();
    const std::size_t  points = transfer->n_grid_points();
    std::vector<float> input(k * points);
    for (unsigned int c = 0; c + 1 < k; ++c)
      transfer->function_to_grid(*input_fields[c], dealii::ArrayView<float>(input.data() + c * points, points));
    // P^T m with the constrained entries of m zeroed, as they are in every residual: the
    // weights that turn a restricted residual into a density.
    dealii::Vector<double> mass = lumped_mass;
    system.constraints->set_zero(mass);
    std::vector<double> grid_mass(points);
    transfer->grid_to_fe_transpose(mass, dealii::make_array_view(grid_mass));
    report.transfer_seconds += seconds_since(start);
    const double training_rms = model->input_rms(k - 1);
    const double target       = std::isfinite(training_rms) && training_rms > 0 ? training_rms : 1.;

    return [this, &system, &report, input, grid_mass, k, points, target](const dealii::Vector<double> &residual,
                                                                         dealii::Vector<double> &correction) mutable {
      auto                start = std::chrono::steady_clock::now();
      std::vector<double> density(points);
      transfer->grid_to_fe_transpose(residual, dealii::make_array_view(density));
      double sum_of_squares = 0.;
      for (std::size_t g = 0; g < points; ++g)
        {
          density[g]     = grid_mass[g] > 0 ? density[g] / grid_mass[g] : 0.;
          sum_of_squares = sum_of_squares + density[g] * density[g];
        }
      const double rms = std::sqrt(sum_of_squares / points);
      correction.reinit(residual.size());
      if (!(rms > 0) || !std::isfinite(rms))
        return;
      // The operator is nonlinear: feed it inputs of its training size, scale back.
      const double scale = target / rms;
      for (std::size_t g = 0; g < points; ++g)
        input[(k - 1) * points + g] = static_cast<float>(scale * density[g]);
      report.transfer_seconds += seconds_since(start);

      start = std::chrono::steady_clock::now();
      const std::vector<unsigned int> shape(transfer->grid_shape().begin(), transfer->grid_shape().end());
      const std::vector<float>        output = model->predict(input, shape);
      report.inference_seconds += seconds_since(start);

      start = std::chrono::steady_clock::now();
      if (output.size() != points)
        throw std::invalid_argument("HybridSolver: the surrogate predicts " + std::to_string(output.size()) +
                                    " values on a grid of " + std::to_string(points) + " points; one channel needed");
      transfer->grid_to_fe(dealii::ArrayView<const float>(output.data(), points), correction);
      correction /= scale;
      system.constraints->set_zero(correction);
      report.transfer_seconds += seconds_since(start);
    };
  }

  template <int dim>
  HybridSolver<dim>::HybridSolver()
    : impl(std::make_unique<Impl>())
  {
  }

  template <int dim>
  HybridSolver<dim>::~HybridSolver() = default;

  template <int dim>
  HybridSolver<dim>::HybridSolver(HybridSolver &&) noexcept = default;

  template <int dim>
  HybridSolver<dim> &
  HybridSolver<dim>::operator=(HybridSolver &&) noexcept = default;

  template <int dim>
  void
  HybridSolver<dim>::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Hybrid solver");
    prm.declare_entry("Strategy",
                      "initial guess",
                      Patterns::Selection(HybridStrategy::registry().names()),
                      "How the surrogate enters the classical solve, one of: " +
                        HybridStrategy::registry().documentation() + ".");
    prm.declare_entry("Checkpoint",
                      "",
                      Patterns::DirectoryName(),
                      "The surrogate's checkpoint directory (written by `mpno train`); a relative "
                      "path is resolved against the directory of the parameter file; empty: "
                      "the top-level Checkpoint, else checkpoint/ in the output directory "
                      "(`mpno solve`, `mpno run`).");
    prm.declare_entry("Relative tolerance",
                      "1e-10",
                      Patterns::Double(0),
                      "Every solve stops when the true residual ||b - A u|| is at most this "
                      "times ||b||; must be > 0 and < 1.");
    prm.declare_entry("Max iterations",
                      "1000",
                      Patterns::Integer(1),
                      "CG iterations allowed per solve, restarts included; more is an error.");
    prm.declare_entry("Inference grid points",
                      "32",
                      Patterns::Integer(2, 4096),
                      "Points per axis of the uniform grid on which the input fields are "
                      "sampled and the surrogate predicts (the training grid, or a finer one: "
                      "zero-shot super-resolution); the prediction is interpolated "
                      "multilinearly onto the FE space. Point clouds (model gino): the latent "
                      "grid, which must be the one the GINO was trained on.");
    HybridStrategy::registry().declare_parameters(prm);
    prm.leave_subsection();
  }

  template <int dim>
  void
  HybridSolver<dim>::parse_parameters(ParameterHandler &prm, const std::filesystem::path &parameter_file)
  {
    prm.enter_subsection("Hybrid solver");
    impl->strategy_name = prm.get("Strategy");
    impl->strategy      = HybridStrategy::registry().create(impl->strategy_name);
    impl->strategy->parse_parameters(prm);
    const std::string checkpoint = prm.get("Checkpoint");
    impl->checkpoint.clear();
    if (!checkpoint.empty())
      {
        const std::filesystem::path path(checkpoint);
        impl->checkpoint = path.is_absolute() ? path : (parameter_file.parent_path() / path).lexically_normal();
      }
    impl->settings.relative_tolerance = prm.get_double("Relative tolerance");
    impl->settings.max_iterations     = prm.get_integer("Max iterations");
    impl->grid_points                 = prm.get_integer("Inference grid points");
    prm.leave_subsection();
    if (!(impl->settings.relative_tolerance > 0 && impl->settings.relative_tolerance < 1))
      throw std::invalid_argument("entry 'Hybrid solver/Relative tolerance' must be > 0 and < 1, got " +
                                  std::to_string(impl->settings.relative_tolerance));
  }

  template <int dim>
  void
  HybridSolver<dim>::initialize(const dealii::Mapping<dim>    &mapping,
                                const dealii::DoFHandler<dim> &dof_handler,
                                const dealii::Point<dim>      &lower,
                                const dealii::Point<dim>      &upper,
                                const std::filesystem::path   &checkpoint)
  {
    std::array<unsigned int, dim> n;
    n.fill(impl->grid_points);
    initialize(std::make_shared<const GridTransfer<dim>>(mapping, dof_handler, n, lower, upper), checkpoint);
  }

  template <int dim>
  void
  HybridSolver<dim>::initialize(std::shared_ptr<const FieldTransfer<dim>> transfer,
                                const std::filesystem::path              &checkpoint)
  {
    if (!transfer)
      throw std::invalid_argument("HybridSolver::initialize: no field transfer given");
    if (!impl->strategy)
      impl->strategy = HybridStrategy::registry().create(impl->strategy_name);
    impl->transfer    = std::move(transfer);
    impl->lumped_mass = impl->transfer->basis_integrals();
    if (!(impl->strategy->uses_prediction() || impl->strategy->uses_surrogate_action()) || impl->model)
      return;
    impl->load_surrogate(checkpoint);
  }

  template <int dim>
  void
  HybridSolver<dim>::initialize_point_clouds(const std::filesystem::path &checkpoint)
  {
    if (!impl->strategy)
      impl->strategy = HybridStrategy::registry().create(impl->strategy_name);
    if (impl->strategy->uses_surrogate_action())
      throw std::invalid_argument("strategy '" + impl->strategy_name +
                                  "' applies the surrogate to residual densities on a fixed grid; a problem whose "
                                  "geometry varies has none: use 'initial guess' or 'none'");
    impl->transfer.reset();
    impl->point_clouds = true;
    if (!impl->strategy->uses_prediction())
      return;
    if (!impl->model)
      impl->load_surrogate(checkpoint);
    // A GINO runs on the latent grid it was trained on (LoadedModel::check_latent_shape).
    const std::vector<unsigned int> trained = impl->model->latent_grid_shape();
    if (!trained.empty() && trained != std::vector<unsigned int>(dim, impl->grid_points))
      {
        std::string shape;
        for (const unsigned int n : trained)
          shape += (shape.empty() ? "" : "x") + std::to_string(n);
        const bool square =
          std::all_of(trained.begin(), trained.end(), [&](unsigned int n) { return n == trained[0]; });
        const std::filesystem::path from = checkpoint.empty() ? impl->checkpoint : checkpoint;
        throw std::invalid_argument(
          "entry 'Hybrid solver/Inference grid points' = " + std::to_string(impl->grid_points) +
          " sets the latent grid, but the surrogate" + (from.empty() ? std::string() : " '" + from.string() + "'") +
          " was trained on the latent grid " + shape +
          (square && trained.size() == dim ? ": set Inference grid points = " + std::to_string(trained[0]) :
                                             std::string(", which no Inference grid points gives")));
      }
  }

  template <int dim>
  HybridSolveReport
  HybridSolver<dim>::solve(const LinearSystem      &system,
                           const PointCloudDataSet &layout,
                           const PointCloudSample  &cloud,
                           dealii::Vector<double>  &solution)
  {
    if (!impl->strategy || !impl->point_clouds)
      throw std::logic_error("HybridSolver::solve (point cloud): call initialize_point_clouds() first");
    HybridSolveReport report;
    report.strategy = impl->strategy_name;
    impl->prediction.reinit(0);
    if (impl->strategy->uses_prediction())
      {
        const auto               start  = std::chrono::steady_clock::now();
        const std::vector<float> output = impl->model->predict(layout, cloud);
        report.inference_seconds        = seconds_since(start);
        if (output.size() != system.rhs->size())
          throw std::invalid_argument("HybridSolver: the surrogate predicts " + std::to_string(output.size()) +
                                      " values for the point cloud, the system has " +
                                      std::to_string(system.rhs->size()) + " DoFs (one output channel expected)");
        impl->prediction.reinit(output.size());
        std::copy(output.begin(), output.end(), impl->prediction.begin());
      }
    const auto start     = std::chrono::steady_clock::now();
    report.result        = impl->strategy->solve(system,
                                          impl->strategy->uses_prediction() ? &impl->prediction : nullptr,
                                          solution,
                                          impl->settings);
    report.solve_seconds = seconds_since(start);
    return report;
  }

  template <int dim>
  void
  HybridSolver<dim>::set_device(const std::string &device)
  {
    if (device != "cpu" && device != "cuda" && device != "auto")
      throw std::invalid_argument("HybridSolver::set_device: expected cpu, cuda or auto, got '" + device + "'");
    impl->device = device;
  }

  template <int dim>
  void
  HybridSolver<dim>::set_surrogate(std::shared_ptr<const SurrogateModel> model)
  {
    impl->model = std::move(model);
  }

  template <int dim>
  void
  HybridSolver<dim>::predict(const std::vector<const dealii::Function<dim> *> &input_fields,
                             dealii::Vector<double>                           &prediction,
                             HybridSolveReport                                *report) const
  {
    if (!impl->transfer)
      throw std::logic_error("HybridSolver::predict: call initialize() first");
    if (!impl->model)
      throw std::logic_error("HybridSolver::predict: no surrogate loaded");
    const FieldTransfer<dim> &transfer = *impl->transfer;
    const unsigned int        in       = impl->model->n_input_channels();
    if (in != 0 && input_fields.size() != in)
      throw std::invalid_argument("HybridSolver: " + std::to_string(input_fields.size()) +
                                  " input fields given, the surrogate takes " + std::to_string(in) + " channels");

    auto               start  = std::chrono::steady_clock::now();
    const std::size_t  points = transfer.n_grid_points();
    std::vector<float> input(input_fields.size() * points);
    for (std::size_t c = 0; c < input_fields.size(); ++c)
      transfer.function_to_grid(*input_fields[c], dealii::ArrayView<float>(input.data() + c * points, points));
    double transfer_seconds = seconds_since(start);

    start = std::chrono::steady_clock::now();
    const std::vector<unsigned int> shape(transfer.grid_shape().begin(), transfer.grid_shape().end());
    const std::vector<float>        output            = impl->model->predict(input, shape);
    const double                    inference_seconds = seconds_since(start);

    if (output.size() != points)
      throw std::invalid_argument("HybridSolver: the surrogate predicts " + std::to_string(output.size() / points) +
                                  " output channels (" + std::to_string(output.size()) +
                                  " values on the grid), the hybrid solver needs one (" + std::to_string(points) +
                                  " values)");
    start = std::chrono::steady_clock::now();
    prediction.reinit(transfer.n_fe_dofs());
    transfer.grid_to_fe(dealii::ArrayView<const float>(output.data(), points), prediction);
    transfer_seconds += seconds_since(start);
    if (report)
      {
        report->inference_seconds += inference_seconds;
        report->transfer_seconds += transfer_seconds;
      }
  }

  template <int dim>
  HybridSolveReport
  HybridSolver<dim>::solve(const LinearSystem                               &system,
                           const std::vector<const dealii::Function<dim> *> &input_fields,
                           dealii::Vector<double>                           &solution)
  {
    if (!impl->strategy)
      throw std::logic_error("HybridSolver::solve: call parse_parameters() or initialize() first");
    HybridSolveReport report;
    report.strategy = impl->strategy_name;
    impl->prediction.reinit(0);
    if (impl->strategy->uses_prediction())
      predict(input_fields, impl->prediction, &report);
    // The action refers to this call's system and report: cleared on every exit.
    struct ClearAction
    {
      HybridStrategy::Interface &strategy;
      ~ClearAction()
      {
        strategy.set_surrogate_action({});
      }
    } clear_action{*impl->strategy};
    if (impl->strategy->uses_surrogate_action())
      impl->strategy->set_surrogate_action(impl->surrogate_action(system, input_fields, report));
    const double surrogate_seconds_before = report.inference_seconds + report.transfer_seconds;
    const auto   start                    = std::chrono::steady_clock::now();
    report.result                         = impl->strategy->solve(system,
                                          impl->strategy->uses_prediction() ? &impl->prediction : nullptr,
                                          solution,
                                          impl->settings);
    // The surrogate's applications inside the solve are counted as inference/transfer.
    report.solve_seconds =
      seconds_since(start) - (report.inference_seconds + report.transfer_seconds - surrogate_seconds_before);
    return report;
  }

  template <int dim>
  HybridSolveReport
  HybridSolver<dim>::solve_classically(const LinearSystem &system, dealii::Vector<double> &solution) const
  {
    HybridSolveReport report;
    report.strategy      = "none";
    const auto start     = std::chrono::steady_clock::now();
    report.result        = HybridStrategy::registry().create("none")->solve(system, nullptr, solution, impl->settings);
    report.solve_seconds = seconds_since(start);
    return report;
  }

  template <int dim>
  void
  HybridSolver<dim>::apply_surrogate(const LinearSystem                               &system,
                                     const std::vector<const dealii::Function<dim> *> &input_fields,
                                     const dealii::Vector<double>                     &residual,
                                     dealii::Vector<double>                           &correction,
                                     HybridSolveReport                                *report) const
  {
    HybridSolveReport times;
    impl->surrogate_action(system, input_fields, times)(residual, correction);
    if (report)
      {
        report->inference_seconds += times.inference_seconds;
        report->transfer_seconds += times.transfer_seconds;
      }
  }

  template <int dim>
  const dealii::Vector<double> &
  HybridSolver<dim>::last_prediction() const
  {
    return impl->prediction;
  }

  template <int dim>
  void
  HybridSolver<dim>::grid_projection(const dealii::Vector<double> &fe_field, dealii::Vector<double> &projected) const
  {
    if (!impl->transfer)
      throw std::logic_error("HybridSolver::grid_projection: call initialize() first");
    const std::vector<double> grid = [&] {
      std::vector<double> values(impl->transfer->n_grid_points());
      impl->transfer->fe_to_grid(fe_field, dealii::ArrayView<double>(values));
      return values;
    }();
    projected.reinit(fe_field.size());
    impl->transfer->grid_to_fe(dealii::ArrayView<const double>(grid), projected);
  }

  template <int dim>
  const KrylovSettings &
  HybridSolver<dim>::krylov_settings() const
  {
    return impl->settings;
  }

  template <int dim>
  const std::string &
  HybridSolver<dim>::strategy_name() const
  {
    return impl->strategy_name;
  }

  template <int dim>
  bool
  HybridSolver<dim>::uses_prediction() const
  {
    return impl->strategy && impl->strategy->uses_prediction();
  }

  template <int dim>
  unsigned int
  HybridSolver<dim>::inference_grid_points() const
  {
    return impl->grid_points;
  }

  template <int dim>
  std::string
  HybridSolver<dim>::surrogate_description() const
  {
    return impl->model ? impl->model->description() : std::string();
  }

  template class HybridSolver<2>;
  template class HybridSolver<3>;
} // namespace mpno
