#include <mpno/surrogate/io_utils.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace mpno
{
  namespace io
  {
    namespace fs = std::filesystem;

    namespace
    {
      [[noreturn]] void
      fail(const std::string &what, const fs::path &path)
      {
        throw std::runtime_error("cannot " + what + " '" + path.string() + "': " + std::strerror(errno));
      }

      /** open(2) + fsync(2) + close(2) of @p path with @p flags. */
      void
      sync_path(const fs::path &path, int flags)
      {
        const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
        if (fd < 0)
          fail("open", path);
        if (::fsync(fd) != 0)
          {
            const int saved = errno;
            ::close(fd);
            errno = saved;
            fail("sync", path);
          }
        ::close(fd);
      }
    } // namespace

    std::string
    trim(const std::string &text)
    {
      constexpr const char *blanks = " \t\r\n";
      const auto            begin  = text.find_first_not_of(blanks);
      if (begin == std::string::npos)
        return "";
      return text.substr(begin, text.find_last_not_of(blanks) - begin + 1);
    }

    namespace
    {
      template <typename Number, typename Convert>
      std::optional<Number>
      parse_whole(const std::string &text, Convert convert)
      {
        std::size_t used = 0;
        Number      number{};
        try
          {
            number = convert(text, &used);
          }
        catch (const std::logic_error &) // invalid_argument, out_of_range
          {
            return std::nullopt;
          }
        if (used == 0 || used != text.size())
          return std::nullopt;
        return number;
      }
    } // namespace

    std::optional<int64_t>
    parse_integer(const std::string &text)
    {
      return parse_whole<int64_t>(text, [](const std::string &t, std::size_t *used) { return std::stoll(t, used); });
    }

    std::optional<double>
    parse_double(const std::string &text)
    {
      return parse_whole<double>(text, [](const std::string &t, std::size_t *used) { return std::stod(t, used); });
    }

    std::string
    shape_to_string(c10::IntArrayRef shape)
    {
      std::ostringstream out;
      out << shape;
      return out.str();
    }

    void
    sync_file(const fs::path &path)
    {
      sync_path(path, O_RDONLY);
    }

    void
    sync_directory(const fs::path &directory)
    {
      sync_path(directory.empty() ? fs::path(".") : directory, O_RDONLY | O_DIRECTORY);
    }

    void
    write_file_atomically(const fs::path &path, const std::string &content)
    {
      // Unique per process, in the same directory, so that rename(2) is atomic.
      fs::path temporary = path;
      temporary += ".tmp." + std::to_string(::getpid());
      const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (fd < 0)
        fail("create", temporary);
      const char *data = content.data();
      std::size_t left = content.size();
      while (left > 0)
        {
          const ssize_t written = ::write(fd, data, left);
          if (written < 0 && errno == EINTR)
            continue;
          if (written <= 0)
            {
              const int saved = errno;
              ::close(fd);
              ::unlink(temporary.c_str());
              errno = saved;
              fail("write", temporary);
            }
          data += written;
          left -= static_cast<std::size_t>(written);
        }
      const bool synced = ::fsync(fd) == 0;
      int        saved  = errno;
      const bool closed = ::close(fd) == 0;
      if (!synced || !closed)
        {
          if (synced)
            saved = errno;
          ::unlink(temporary.c_str());
          errno = saved;
          fail("sync", temporary);
        }
      if (::rename(temporary.c_str(), path.c_str()) != 0)
        {
          const int saved = errno;
          ::unlink(temporary.c_str());
          errno = saved;
          fail("rename '" + temporary.string() + "' to", path);
        }
      sync_directory(path.parent_path());
    }
  } // namespace io
} // namespace mpno
