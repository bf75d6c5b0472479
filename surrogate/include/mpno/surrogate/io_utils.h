#pragma once

// Small text and file helpers shared by libmpno_surrogate, libmpno_plugin and the
// benchmarks: one trim, whole-string number parsing, one shape-to-text, one atomic file
// write (design.md "Files written").

#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace mpno
{
  namespace io
  {
    /** @p text without leading and trailing blanks (space, tab, carriage return, newline). */
    std::string
    trim(const std::string &text);

    /** The whole of @p text as an integer (std::stoll: leading blanks allowed, nothing
     *  after the digits); std::nullopt for anything else, out-of-range values included. */
    std::optional<int64_t>
    parse_integer(const std::string &text);

    /** The whole of @p text as a double (std::stod), as parse_integer(). */
    std::optional<double>
    parse_double(const std::string &text);

    /** A tensor shape as LibTorch prints it, e.g. "[32, 1, 16, 16]"; "[]" for a scalar. */
    std::string
    shape_to_string(c10::IntArrayRef shape);

    /**
     * Write @p content to @p path so that a reader (or a crash) sees either the old or
     * the complete new file, never a partial one: the content goes to a temporary
     * file in the same directory, which is flushed to disk (fsync), renamed onto
     * @p path, and then the directory itself is synced so that the rename is durable.
     * @throws std::runtime_error naming the path and the failing system call.
     */
    void
    write_file_atomically(const std::filesystem::path &path, const std::string &content);

    /** fsync an existing regular file, e.g. one written by torch::save, before renaming
     *  its directory. @throws std::runtime_error naming the path. */
    void
    sync_file(const std::filesystem::path &path);

    /** fsync a directory, making the creation, renaming or removal of its entries durable.
     *  @throws std::runtime_error naming the path. */
    void
    sync_directory(const std::filesystem::path &directory);
  } // namespace io
} // namespace mpno
