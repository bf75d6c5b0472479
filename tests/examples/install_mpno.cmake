# Installs the build tree BUILD into PREFIX and checks the package files (ctest -P script).
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${PREFIX}"
                RESULT_VARIABLE exit_code OUTPUT_QUIET)
if(NOT exit_code EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD} --prefix ${PREFIX} failed: ${exit_code}")
endif()
foreach(file bin/mpno lib/libmpno_plugin.so lib/libmpno_coupling.so lib/libmpno_surrogate.so
             include/mpno/plugin/hybrid_solver.h include/mpno/coupling/linear_solve.h
             include/mpno/surrogate/fno.h lib/cmake/mpno/mpnoConfig.cmake
             lib/cmake/mpno/mpnoConfigVersion.cmake lib/cmake/mpno/mpnoTargets.cmake)
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "no ${PREFIX}/${file}")
  endif()
endforeach()
# The exported targets must not point into the source or build tree.
file(GLOB exports "${PREFIX}/lib/cmake/mpno/*.cmake")
foreach(file IN LISTS exports)
  file(READ "${file}" text)
  foreach(tree "${BUILD}" "${SOURCE}")
    string(FIND "${text}" "${tree}/" position)
    if(NOT position EQUAL -1)
      message(FATAL_ERROR "${file} refers to ${tree}")
    endif()
  endforeach()
endforeach()
message("installed into ${PREFIX}")
