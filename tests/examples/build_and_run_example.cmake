# Configures and builds the example SOURCE in BINARY against the mpno installed in PREFIX
# (LibTorch hidden from find_package: the public interface must not need it), then runs
# RUN ARGS (a space-separated command line; @BIN@ -> BINARY, @OUT@ -> BINARY/output) in BINARY and checks it
# (ctest -P script):
#   EXPECT_OUTPUT   a regular expression the screen output must match
#   EXPECT_SUMMARY  a regular expression BINARY/output/summary.json must match
#   MAX_RESIDUAL    the number after "Final relative residual:" must be at most this
file(REMOVE_RECURSE "${BINARY}")
set(configure "${CMAKE_COMMAND}" -S "${SOURCE}" -B "${BINARY}" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release
    -Dmpno_DIR=${PREFIX}/lib/cmake/mpno -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON)
if(LAUNCHER)
  list(APPEND configure -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
foreach(step configure build)
  if(step STREQUAL "build")
    set(command "${CMAKE_COMMAND}" --build "${BINARY}")
  else()
    set(command ${configure})
  endif()
  execute_process(COMMAND ${command} RESULT_VARIABLE exit_code OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT exit_code EQUAL 0)
    message(FATAL_ERROR "${step} of ${SOURCE} failed:\n${out}")
  endif()
endforeach()

set(output "${BINARY}/output")
separate_arguments(command UNIX_COMMAND "${RUN} ${ARGS}")
list(TRANSFORM command REPLACE "@BIN@" "${BINARY}")
list(TRANSFORM command REPLACE "@OUT@" "${output}")
execute_process(COMMAND ${command} WORKING_DIRECTORY "${BINARY}"
                RESULT_VARIABLE exit_code OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT exit_code EQUAL 0)
  message(FATAL_ERROR "expected exit code 0, got '${exit_code}'")
endif()
if(EXPECT_OUTPUT AND NOT "${out}${err}" MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "the output does not match '${EXPECT_OUTPUT}'")
endif()
if(EXPECT_SUMMARY)
  file(READ "${output}/summary.json" summary)
  if(NOT "${summary}" MATCHES "${EXPECT_SUMMARY}")
    message(FATAL_ERROR "summary.json does not match '${EXPECT_SUMMARY}':\n${summary}")
  endif()
endif()
if(MAX_RESIDUAL)
  if(NOT "${out}" MATCHES "Final relative residual: ([0-9.e+-]+)")
    message(FATAL_ERROR "no 'Final relative residual' in the output")
  endif()
  set(residual "${CMAKE_MATCH_1}")
  if(NOT residual LESS_EQUAL MAX_RESIDUAL)
    message(FATAL_ERROR "final relative residual ${residual} > ${MAX_RESIDUAL}")
  endif()
  message("final relative residual ${residual} <= ${MAX_RESIDUAL}")
endif()
