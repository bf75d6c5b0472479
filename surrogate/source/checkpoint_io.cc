#include <mpno/surrogate/io_utils.h>

#include "checkpoint_io.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdio>
#include <fcntl.h>
#include <sstream>
#include <stdexcept>

namespace mpno
{
  namespace checkpoint_io
  {
    namespace fs = std::filesystem;

    void
    replace_directory(const fs::path &staged, const fs::path &target)
    {
      for (const auto &entry : fs::directory_iterator(staged))
        if (entry.is_regular_file())
          io::sync_file(entry.path());
      io::sync_directory(staged);
      const fs::path parent = target.parent_path();
      fs::path       old    = target;
      old += ".old";

      std::error_code error;
      if (fs::exists(target))
        {
#ifdef RENAME_EXCHANGE
          // Atomic swap: a reader sees the complete old or the complete new directory.
          if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0)
            {
              io::sync_directory(parent);
              fs::remove_all(staged);
              return;
            }
#endif
          // Two renames: in between, only TARGET.old exists (find_checkpoint() uses it).
          fs::remove_all(old);
          fs::rename(target, old, error);
          if (error)
            throw std::runtime_error("cannot move '" + target.string() + "' aside: " + error.message());
        }
      fs::rename(staged, target, error);
      if (error)
        throw std::runtime_error(
          "cannot rename '" + staged.string() + "' to '" + target.string() + "': " + error.message() +
          (fs::exists(old) ? " (the previous checkpoint is in '" + old.string() + "')" : std::string()));
      io::sync_directory(parent);
      fs::remove_all(old); // also a stale one left by an interrupted replacement
    }

    void
    require_file(const fs::path &directory, const std::string &file)
    {
      if (!fs::is_regular_file(directory / file))
        throw std::runtime_error("checkpoint directory '" + directory.string() + "' has no " + file);
    }

    void
    save_module(const torch::nn::Module &module, const fs::path &file)
    {
      torch::serialize::OutputArchive archive;
      module.save(archive);
      archive.save_to(file.string());
    }

    namespace
    {
      void
      copy_into(const torch::Tensor &destination,
                const torch::Tensor &source,
                const std::string   &key,
                const fs::path      &file)
      {
        if (destination.sizes() != source.sizes() || destination.dtype() != source.dtype())
          {
            std::ostringstream message;
            message << "'" << file.string() << "': entry '" << key << "' has shape " << source.sizes() << " and dtype "
                    << source.dtype() << ", the model expects " << destination.sizes() << " and "
                    << destination.dtype();
            throw std::runtime_error(message.str());
          }
        torch::NoGradGuard no_grad;
        destination.copy_(source);
      }

      // Mirrors torch::nn::Module::load (own parameters, own buffers, then children
      // as nested archives), but copies instead of swapping storage and checks shapes.
      void
      load_recursively(torch::nn::Module              &module,
                       torch::serialize::InputArchive &archive,
                       const std::string              &prefix,
                       const fs::path                 &file)
      {
        for (const auto &item : module.named_parameters(/*recurse=*/false))
          {
            torch::Tensor loaded;
            if (!archive.try_read(item.key(), loaded, /*is_buffer=*/false))
              throw std::runtime_error("'" + file.string() + "' has no parameter '" + prefix + item.key() + "'");
            copy_into(item.value(), loaded, prefix + item.key(), file);
          }
        for (const auto &item : module.named_buffers(/*recurse=*/false))
          {
            torch::Tensor loaded;
            if (!archive.try_read(item.key(), loaded, /*is_buffer=*/true))
              throw std::runtime_error("'" + file.string() + "' has no buffer '" + prefix + item.key() + "'");
            copy_into(item.value(), loaded, prefix + item.key(), file);
          }
        for (const auto &child : module.named_children())
          {
            torch::serialize::InputArchive child_archive;
            if (!archive.try_read(child.key(), child_archive))
              throw std::runtime_error("'" + file.string() + "' has no submodule '" + prefix + child.key() + "'");
            load_recursively(*child.value(), child_archive, prefix + child.key() + ".", file);
          }
      }
    } // namespace

    void
    load_module(torch::nn::Module &module, const fs::path &file)
    {
      torch::serialize::InputArchive archive;
      try
        {
          archive.load_from(file.string(), torch::Device(torch::kCPU));
        }
      catch (const c10::Error &error)
        {
          throw std::runtime_error("cannot read '" + file.string() + "': " + error.what_without_backtrace());
        }
      load_recursively(module, archive, "", file);
    }

    void
    restore_model(NeuralOperator &model, const CheckpointState &state)
    {
      model.set_precision(state.precision);
      load_module(model, directory_of(state) / model_file);
    }

    void
    save_normalizers(const std::optional<UnitGaussianNormalizer> &input,
                     const std::optional<UnitGaussianNormalizer> &output,
                     const fs::path                              &file)
    {
      torch::serialize::OutputArchive archive;
      if (input && input->fitted())
        input->save(archive, "input");
      if (output && output->fitted())
        output->save(archive, "output");
      archive.save_to(file.string());
    }

    void
    load_normalizers(std::optional<UnitGaussianNormalizer> &input,
                     std::optional<UnitGaussianNormalizer> &output,
                     const CheckpointState                 &state,
                     const torch::Device                   &device)
    {
      const bool     with_input  = state_bool(state, "encode_input");
      const bool     with_output = state_bool(state, "encode_output");
      const fs::path file        = directory_of(state) / normalizer_file;
      try
        {
          torch::serialize::InputArchive archive;
          archive.load_from(file.string(), torch::Device(torch::kCPU));
          input.reset();
          output.reset();
          for (auto [normalizer, wanted, prefix] :
               {std::tuple{&input, with_input, "input"}, std::tuple{&output, with_output, "output"}})
            if (wanted)
              {
                normalizer->emplace();
                (*normalizer)->load(archive, prefix);
                (*normalizer)->to(device);
              }
        }
      catch (const c10::Error &error)
        {
          throw std::runtime_error("cannot read the normalisers from '" + file.string() +
                                   "': " + error.what_without_backtrace());
        }
      catch (const std::exception &error)
        {
          throw std::runtime_error("cannot read the normalisers from '" + file.string() + "': " + error.what());
        }
    }

    CheckpointState
    open_checkpoint(const fs::path &directory, bool with_optimizer, std::ostream *log)
    {
      const fs::path found = find_checkpoint(directory, log);
      for (const char *file : {state_file, model_file, normalizer_file})
        require_file(found, file);
      if (with_optimizer)
        require_file(found, optimizer_file);
      return read_state(found / state_file);
    }
  } // namespace checkpoint_io

  std::filesystem::path
  find_checkpoint(const std::filesystem::path &directory, std::ostream *log)
  {
    if (std::filesystem::is_directory(directory))
      return directory;
    std::filesystem::path old = directory;
    old += ".old";
    if (std::filesystem::is_directory(old))
      {
        if (log)
          *log << "The checkpoint directory '" << directory.string()
               << "' is missing (a replacement was interrupted); using the previous checkpoint '" << old.string() << "'"
               << std::endl;
        return old;
      }
    throw std::runtime_error("checkpoint directory '" + directory.string() + "' does not exist");
  }
} // namespace mpno
