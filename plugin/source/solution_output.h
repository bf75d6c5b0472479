#pragma once

// Internal to libmpno_plugin: VTU output of one hybrid-solved instance for ParaView.

#include <deal.II/dofs/dof_handler.h>
#include <deal.II/numerics/data_out.h>

#include <mpno/plugin/problem.h>
#include <mpno/surrogate/io_utils.h>

#include <filesystem>
#include <functional>
#include <iomanip>
#include <sstream>

namespace mpno
{
  namespace plugin
  {
    /**
     * The VTU document of Problem::Interface::solution_vtu() on @p dof_handler: the input
     * fields @p input_names as cell data, the values of @p input_value(channel, centre)
     * at the cell centres; @p solution named @p output_name; when @p prediction has the
     * same size, "prediction" and "prediction_error" (prediction - solution).
     */
    template <int dim, int spacedim>
    std::string
    solution_vtu_document(const dealii::DoFHandler<dim, spacedim>                                    &dof_handler,
                          const std::vector<std::string>                                             &input_names,
                          const std::function<double(unsigned int, const dealii::Point<spacedim> &)> &input_value,
                          const std::string                                                          &output_name,
                          const dealii::Vector<double>                                               &solution,
                          const dealii::Vector<double>                                               &prediction)
    {
      dealii::DataOut<dim, spacedim> data_out;
      data_out.attach_dof_handler(dof_handler);

      std::vector<dealii::Vector<float>> inputs(input_names.size(),
                                                dealii::Vector<float>(
                                                  dof_handler.get_triangulation().n_active_cells()));
      for (const auto &cell : dof_handler.active_cell_iterators())
        for (unsigned int c = 0; c < input_names.size(); ++c)
          inputs[c][cell->active_cell_index()] = input_value(c, cell->center());
      for (unsigned int c = 0; c < input_names.size(); ++c)
        data_out.add_data_vector(inputs[c], input_names[c], dealii::DataOut<dim, spacedim>::type_cell_data);

      data_out.add_data_vector(solution, output_name);
      dealii::Vector<double> error;
      if (prediction.size() == solution.size())
        {
          error = prediction;
          error -= solution;
          data_out.add_data_vector(prediction, "prediction");
          data_out.add_data_vector(error, "prediction_error");
        }
      data_out.build_patches();
      std::ostringstream vtu;
      data_out.write_vtu(vtu);
      return vtu.str();
    }

    /**
     * Write DIR/solution-NNN.vtu (NNN = @p index, three digits) with
     * Problem::Interface::solution_vtu(@p solution, @p prediction), to a temporary name,
     * synced and renamed (io::write_file_atomically). @return the file's path.
     */
    template <int dim>
    std::filesystem::path
    write_solution_vtu(const Problem::Interface<dim> &problem,
                       const dealii::Vector<double>  &solution,
                       const dealii::Vector<double>  &prediction,
                       const std::filesystem::path   &directory,
                       const unsigned int             index)
    {
      std::ostringstream name;
      name << "solution-" << std::setw(3) << std::setfill('0') << index << ".vtu";
      const std::filesystem::path file = directory / name.str();
      io::write_file_atomically(file, problem.solution_vtu(solution, prediction));
      return file;
    }
  } // namespace plugin
} // namespace mpno
