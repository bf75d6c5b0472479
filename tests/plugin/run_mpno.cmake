# Runs `MPNO train PRM --output OUTPUT` and checks the outcome (ctest -P script).
#   EXPECT_FAILURE  ON: the exit code must be non-zero; otherwise it must be 0
#   EXPECT_OUTPUT   a regular expression the screen output (stdout + stderr) must match
#   EXPECT_SUMMARY  a regular expression OUTPUT/summary.json must match
file(REMOVE_RECURSE "${OUTPUT}")
execute_process(COMMAND "${MPNO}" train "${PRM}" --output "${OUTPUT}"
                RESULT_VARIABLE exit_code OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(EXPECT_FAILURE AND exit_code EQUAL 0)
  message(FATAL_ERROR "expected a non-zero exit code, got 0")
elseif(NOT EXPECT_FAILURE AND NOT exit_code EQUAL 0)
  message(FATAL_ERROR "expected exit code 0, got '${exit_code}'")
endif()
if(EXPECT_FAILURE AND "${err}" MATCHES "Stacktrace|#[0-9]+ +0x")
  message(FATAL_ERROR "the error message carries a stack trace")
endif()
if(DEFINED EXPECT_OUTPUT AND NOT "${out}${err}" MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "the output does not match '${EXPECT_OUTPUT}'")
endif()
if(DEFINED EXPECT_SUMMARY)
  if(NOT EXISTS "${OUTPUT}/summary.json")
    message(FATAL_ERROR "no ${OUTPUT}/summary.json")
  endif()
  file(READ "${OUTPUT}/summary.json" summary)
  if(NOT "${summary}" MATCHES "${EXPECT_SUMMARY}")
    message(FATAL_ERROR "summary.json does not match '${EXPECT_SUMMARY}':\n${summary}")
  endif()
endif()
