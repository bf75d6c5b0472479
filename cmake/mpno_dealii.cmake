# deal.II's imported targets (deal.ii / deal.ii.g) and its usage requirements, without
# DEAL_II_SETUP_TARGET's -g -pedantic flags, which would also apply to LibTorch's headers.
if(NOT DEAL_II_TARGET_CONFIG_INCLUDED)
  include(${DEAL_II_TARGET_CONFIG})
  set(DEAL_II_TARGET_CONFIG_INCLUDED TRUE)
endif()
add_library(mpno_dealii INTERFACE)
target_include_directories(mpno_dealii SYSTEM INTERFACE ${DEAL_II_INCLUDE_DIRS})
target_compile_definitions(mpno_dealii INTERFACE
  ${DEAL_II_USER_DEFINITIONS}
  $<$<CONFIG:Debug>:${DEAL_II_USER_DEFINITIONS_DEBUG}>
  $<$<NOT:$<CONFIG:Debug>>:${DEAL_II_USER_DEFINITIONS_RELEASE}>)
if(CMAKE_BUILD_TYPE STREQUAL "Debug" AND DEAL_II_BUILD_TYPE MATCHES "Debug")
  target_link_libraries(mpno_dealii INTERFACE ${DEAL_II_TARGET_DEBUG})
else()
  target_link_libraries(mpno_dealii INTERFACE ${DEAL_II_TARGET_RELEASE})
endif()
