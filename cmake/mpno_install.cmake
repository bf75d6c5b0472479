# The installed CMake package: `find_package(mpno REQUIRED)` in a user's project gives
# mpno::plugin, mpno::coupling, mpno::surrogate and the program mpno::mpno
# (PREFIX/lib/cmake/mpno; see examples/custom_problem/README.md).
include(CMakePackageConfigHelpers)
set(MPNO_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mpno)

install(EXPORT mpnoTargets NAMESPACE mpno:: DESTINATION ${MPNO_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mpnoConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mpnoConfig.cmake
  INSTALL_DESTINATION ${MPNO_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the interface.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mpnoConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mpnoConfig.cmake ${PROJECT_BINARY_DIR}/mpnoConfigVersion.cmake
  DESTINATION ${MPNO_INSTALL_CMAKEDIR})
if(MPNO_WITH_DEALII)
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/mpno_dealii.cmake DESTINATION ${MPNO_INSTALL_CMAKEDIR})
endif()
