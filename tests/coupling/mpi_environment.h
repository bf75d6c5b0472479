// MPI for the coupling tests, which link GTest::gtest_main and so have no main() of
// their own: a GoogleTest global environment owns one deal.II MPI_InitFinalize.
#pragma once

#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <memory>

namespace mpno::test
{
  /// Initialises MPI (and what deal.II initialises with it) before the first test and
  /// finalises it after the last one, once the test objects using it are gone.
  class MpiEnvironment : public ::testing::Environment
  {
  public:
    void
    SetUp() override
    {
      static int    argc   = 1;
      static char   name[] = "test_coupling";
      static char  *args[] = {name, nullptr};
      static char **argv   = args;
      mpi = std::make_unique<dealii::Utilities::MPI::MPI_InitFinalize>(argc, argv, 1);
    }

    void
    TearDown() override
    {
      mpi.reset();
    }

  private:
    std::unique_ptr<dealii::Utilities::MPI::MPI_InitFinalize> mpi;
  };

  /**
   * Registers the MpiEnvironment with GoogleTest, once per program however many test
   * files call it (an inline function's static is shared by all of them). Call it from
   * a namespace-scope static initialiser of each test file that needs MPI:
   *   static const bool mpi_ready = mpno::test::ensure_mpi();
   */
  inline bool
  ensure_mpi()
  {
    static const bool registered = [] {
      ::testing::AddGlobalTestEnvironment(new MpiEnvironment); // GoogleTest takes ownership
      return true;
    }();
    return registered;
  }
} // namespace mpno::test
