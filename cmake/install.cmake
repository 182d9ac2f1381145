# Installs Cortex as a library for other projects: headers, the layer libraries,
# the `cortex` command, a CMake package (find_package(Cortex) -> Cortex::cortex),
# a pkg-config file (cortex.pc), and a .deb through CPack (make package).
include(CMakePackageConfigHelpers)

set(CORTEX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Cortex)

install(DIRECTORY include/cortex DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(TARGETS ${CORTEX_LAYERS} cortex EXPORT CortexTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
if(TARGET cortex_cli)
  install(TARGETS cortex_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bin)
endif()
install(EXPORT CortexTargets NAMESPACE Cortex:: DESTINATION ${CORTEX_CMAKE_DIR} COMPONENT dev)

configure_package_config_file(cmake/CortexConfig.cmake.in ${PROJECT_BINARY_DIR}/CortexConfig.cmake
                              INSTALL_DESTINATION ${CORTEX_CMAKE_DIR})
# 0.x: a new minor version may change the API, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/CortexConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/CortexConfig.cmake ${PROJECT_BINARY_DIR}/CortexConfigVersion.cmake
        DESTINATION ${CORTEX_CMAKE_DIR} COMPONENT dev)

# pkg-config: the libraries in link order (each before the layers it uses), then
# their dependencies. The prefix is found from the file's own place, so the
# installed tree may move.
set(CORTEX_PC_LIBS "")
foreach(layer ${CORTEX_LAYERS})
  string(PREPEND CORTEX_PC_LIBS "-l${layer} ")
endforeach()
string(APPEND CORTEX_PC_LIBS "-ldnnl")
if(CORTEX_CUDA)
  get_filename_component(cudnn_dir ${CUDNN_LIBRARY} DIRECTORY)
  string(APPEND CORTEX_PC_LIBS " -L${cudnn_dir} -L${CUDAToolkit_LIBRARY_DIR} -lcudnn -lcublas -lcudart")
endif()
file(RELATIVE_PATH CORTEX_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(cmake/cortex.pc.in ${PROJECT_BINARY_DIR}/cortex.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cortex.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# make package: one .deb with the command, the headers and the libraries. Its
# dependencies are what find_package(Cortex) and linking need (the -dev
# packages, which bring the shared libraries the command runs with).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cortex)
set(CPACK_PACKAGE_VENDOR "Cortex")
set(CPACK_PACKAGE_CONTACT "Cortex developers <cortex@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Deep-learning framework in C++20 (oneDNN on the CPU)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libdnnl-dev, ocl-icd-opencl-dev, libpng-dev, zlib1g-dev, libgomp1, libstdc++6")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist, cmake, g++, pkg-config")
# `cortex lm train` reads the King James Bible from bible-kjv; `cortex visualize model` runs Graphviz's dot.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bible-kjv, graphviz")
include(CPack)
