#include <deal.II/base/exceptions.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/numerics/vector_tools.h>

#include <mpno/coupling/holes.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>

namespace mpno
{
  using namespace dealii;

  std::vector<Hole>
  random_holes(const std::uint64_t seed, const HolesParameters &p)
  {
    AssertThrow(p.min_holes <= p.max_holes,
                ExcMessage("random_holes: min_holes " + std::to_string(p.min_holes) + " > max_holes " +
                           std::to_string(p.max_holes)));
    AssertThrow(p.min_radius > 0 && p.min_radius <= p.max_radius,
                ExcMessage("random_holes: radii must satisfy 0 < min_radius <= max_radius, got " +
                           std::to_string(p.min_radius) + " and " + std::to_string(p.max_radius)));
    AssertThrow(p.gap >= 0, ExcMessage("random_holes: gap must be >= 0, got " + std::to_string(p.gap)));
    AssertThrow(p.min_radius + p.gap < 0.5,
                ExcMessage("random_holes: min_radius + gap = " + std::to_string(p.min_radius + p.gap) +
                           " >= 0.5: no hole fits in the unit square"));
    std::mt19937_64                        random(seed);
    std::uniform_int_distribution<int>     count(static_cast<int>(p.min_holes), static_cast<int>(p.max_holes));
    std::uniform_real_distribution<double> uniform(0., 1.);
    const int                              n = count(random);
    std::vector<Hole>                      holes;
    for (int attempt = 0; static_cast<int>(holes.size()) < n && attempt < 10000; ++attempt)
      {
        Hole         hole;
        const double r      = p.min_radius + (p.max_radius - p.min_radius) * uniform(random);
        const double margin = p.gap + r;
        hole.radius         = r;
        // Drawn even when the radius leaves no room, so the stream stays the same.
        const double x = uniform(random), y = uniform(random);
        if (margin >= 0.5)
          continue;
        hole.centre      = Point<2>(margin + (1 - 2 * margin) * x, margin + (1 - 2 * margin) * y);
        const bool clear = std::all_of(holes.begin(), holes.end(), [&](const Hole &other) {
          return hole.centre.distance(other.centre) >= hole.radius + other.radius + p.gap;
        });
        if (clear)
          holes.push_back(hole);
      }
    return holes;
  }

  double
  holes_signed_distance(const Point<2> &p, const std::vector<Hole> &holes)
  {
    double d = std::min({p[0], 1. - p[0], p[1], 1. - p[1]});
    for (const Hole &hole : holes)
      d = std::min(d, p.distance(hole.centre) - hole.radius);
    return d;
  }

  double
  holes_exact_area(const std::vector<Hole> &holes)
  {
    double area = 1.;
    for (const Hole &hole : holes)
      area -= M_PI * hole.radius * hole.radius;
    return area;
  }

  HolesSolver::HolesSolver(const HolesParameters &parameters)
    : parameters(parameters)
    , fe(1)
  {
    AssertThrow(parameters.n_cells_per_side >= 4,
                ExcMessage("HolesSolver: at least 4 cells per side, got " +
                           std::to_string(parameters.n_cells_per_side)));
  }

  void
  HolesSolver::make_geometry(const std::vector<Hole> &new_holes)
  {
    holes     = new_holes;
    assembled = false;
    amg.reset();
    dof_handler.clear();
    triangulation.clear();

    Triangulation<2> square;
    const unsigned   n = parameters.n_cells_per_side;
    GridGenerator::subdivided_hyper_cube(square, n, 0., 1.);
    std::set<Triangulation<2>::active_cell_iterator> removed;
    for (const auto &cell : square.active_cell_iterators())
      if (holes_signed_distance(cell->center(), holes) < 0)
        removed.insert(cell);
    AssertThrow(removed.size() < square.n_active_cells(),
                ExcMessage("HolesSolver: the holes remove every cell of the mesh"));
    GridGenerator::create_triangulation_with_removed_cells(square, removed, triangulation);
    for (const auto &cell : triangulation.active_cell_iterators())
      for (const auto &face : cell->face_iterators())
        if (face->at_boundary())
          {
            const Point<2> c     = face->center();
            const bool     outer = std::min({c[0], 1. - c[0], c[1], 1. - c[1]}) < 1e-12;
            face->set_boundary_id(outer ? 0 : 1);
            // A hole's staircase lies within one cell diagonal of its circle.
            AssertThrow(outer || std::abs(holes_signed_distance(c, holes)) <= std::sqrt(2.) / n,
                        ExcMessage("HolesSolver: a hole boundary face at (" + std::to_string(c[0]) + ", " +
                                   std::to_string(c[1]) + ") is far from every hole"));
          }

    dof_handler.reinit(triangulation);
    dof_handler.distribute_dofs(fe);
    constraints.clear();
    VectorTools::interpolate_boundary_values(dof_handler, 0, Functions::ZeroFunction<2>(), constraints);
    VectorTools::interpolate_boundary_values(dof_handler, 1, Functions::ZeroFunction<2>(), constraints);
    constraints.close();
    DynamicSparsityPattern dsp(dof_handler.n_dofs());
    DoFTools::make_sparsity_pattern(dof_handler, dsp, constraints, false);
    matrix.clear();
    matrix.reinit(complete_index_set(dof_handler.n_dofs()), dsp, MPI_COMM_SELF);
    rhs.reinit(dof_handler.n_dofs());
    lumped.reinit(dof_handler.n_dofs());
  }

  void
  HolesSolver::assemble(const Function<2> &forcing)
  {
    AssertThrow(dof_handler.has_active_dofs(), ExcMessage("HolesSolver::assemble() before make_geometry()"));
    matrix = 0;
    rhs    = 0;
    lumped = 0;
    amg.reset();
    const QGauss<2>                      quadrature(2);
    FEValues<2>                          values(mapping,
                       fe,
                       quadrature,
                       update_values | update_gradients | update_quadrature_points | update_JxW_values);
    const unsigned int                   n = fe.n_dofs_per_cell();
    FullMatrix<double>                   cell_matrix(n, n);
    Vector<double>                       cell_rhs(n);
    std::vector<double>                  f_values(quadrature.size());
    std::vector<types::global_dof_index> indices(n);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        values.reinit(cell);
        forcing.value_list(values.get_quadrature_points(), f_values);
        cell_matrix = 0;
        cell_rhs    = 0;
        cell->get_dof_indices(indices);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          for (unsigned int i = 0; i < n; ++i)
            {
              for (unsigned int j = 0; j < n; ++j)
                cell_matrix(i, j) += values.shape_grad(i, q) * values.shape_grad(j, q) * values.JxW(q);
              cell_rhs(i) += values.shape_value(i, q) * f_values[q] * values.JxW(q);
              lumped(indices[i]) += values.shape_value(i, q) * values.JxW(q);
            }
        constraints.distribute_local_to_global(cell_matrix, cell_rhs, indices, matrix, rhs);
      }
    matrix.compress(VectorOperation::add);
    assembled = true;
  }

  LinearSystem
  HolesSolver::linear_system() const
  {
    AssertThrow(assembled, ExcMessage("HolesSolver::linear_system() before assemble()"));
    LinearSystem system{&matrix, &rhs, &constraints, nullptr};
    system.make_preconditioner = [this]() -> const TrilinosWrappers::PreconditionBase & {
      if (!amg)
        {
          TrilinosWrappers::PreconditionAMG::AdditionalData data;
          data.elliptic        = true;
          data.smoother_type   = "Chebyshev";
          data.smoother_sweeps = 2;
          amg                  = std::make_unique<TrilinosWrappers::PreconditionAMG>();
          amg->initialize(matrix, data);
        }
      return *amg;
    };
    return system;
  }

  std::vector<Point<2>>
  HolesSolver::support_points() const
  {
    std::vector<Point<2>> points(dof_handler.n_dofs());
    DoFTools::map_dofs_to_support_points(mapping, dof_handler, points);
    return points;
  }
} // namespace mpno
