#pragma once

// Internal to libmpno_plugin: VTU output of one hybrid-solved instance for ParaView.

#include <deal.II/numerics/data_out.h>

#include <mpno/plugin/problem.h>
#include <mpno/surrogate/io_utils.h>

#include <filesystem>
#include <iomanip>
#include <sstream>

namespace mpno
{
  namespace plugin
  {
    /**
     * Write DIR/solution-NNN.vtu (NNN = @p index, three digits) with the problem's input
     * fields (cell data: their values at the cell centres), the converged FE solution
     * @p solution (named after Problem::output_name()), and, when @p prediction has the
     * same size, the surrogate's prediction in the FE space and its error (prediction -
     * solution). Written to a temporary name, synced and renamed
     * (io::write_file_atomically). @return the file's path.
     */
    template <int dim>
    std::filesystem::path
    write_solution_vtu(const Problem::Interface<dim> &problem,
                       const dealii::Vector<double>  &solution,
                       const dealii::Vector<double>  &prediction,
                       const std::filesystem::path   &directory,
                       const unsigned int             index)
    {
      const dealii::DoFHandler<dim> &dof_handler = problem.get_dof_handler();
      dealii::DataOut<dim>           data_out;
      data_out.attach_dof_handler(dof_handler);

      const std::vector<std::string>     names = problem.input_names();
      std::vector<dealii::Vector<float>> inputs(names.size(),
                                                dealii::Vector<float>(
                                                  dof_handler.get_triangulation().n_active_cells()));
      for (const auto &cell : dof_handler.active_cell_iterators())
        for (unsigned int c = 0; c < names.size(); ++c)
          inputs[c][cell->active_cell_index()] = problem.input_field(c).value(cell->center());
      for (unsigned int c = 0; c < names.size(); ++c)
        data_out.add_data_vector(inputs[c], names[c], dealii::DataOut<dim>::type_cell_data);

      data_out.add_data_vector(solution, problem.output_name());
      dealii::Vector<double> error;
      if (prediction.size() == solution.size())
        {
          error = prediction;
          error -= solution;
          data_out.add_data_vector(prediction, "prediction");
          data_out.add_data_vector(error, "prediction_error");
        }
      data_out.build_patches();

      std::ostringstream name;
      name << "solution-" << std::setw(3) << std::setfill('0') << index << ".vtu";
      const std::filesystem::path file = directory / name.str();
      std::ostringstream          vtu;
      data_out.write_vtu(vtu);
      io::write_file_atomically(file, vtu.str());
      return file;
    }
  } // namespace plugin
} // namespace mpno
