# headscope_add_analysis(<name> SOURCES <file>... [LIBRARIES <lib>...] [OUTPUT_NAME <file name>]
#                        [INSTALL_DESTINATION <dir>])
#
# Builds a headscope plugin: a MODULE library (<name>.so) linked to headscope::core, compiled
# as C++17 with hidden symbol visibility so only the entry point written by HEADSCOPE_PLUGIN(...)
# is exported. Load it with `headscope --plugin-dir <folder>`, HEADSCOPE_PLUGIN_PATH, or by
# copying it into ~/.local/share/headscope/plugins. INSTALL_DESTINATION adds an install() rule.
include_guard(GLOBAL)

function(headscope_add_analysis name)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME;INSTALL_DESTINATION" "SOURCES;LIBRARIES" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "headscope_add_analysis(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "headscope_add_analysis(${name}): give the plugin's sources, e.g. SOURCES ${name}.cpp")
  endif()
  if(NOT TARGET headscope::core)
    message(FATAL_ERROR "headscope_add_analysis(${name}): headscope::core is not defined; call find_package(headscope REQUIRED) first")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE headscope::core ${ARG_LIBRARIES})
  target_compile_features(${name} PRIVATE cxx_std_17)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(ARG_OUTPUT_NAME)
    set_target_properties(${name} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
  endif()
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # Unresolved symbols fail the build here rather than the plugin's loading later.
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  if(ARG_INSTALL_DESTINATION)
    install(TARGETS ${name} LIBRARY DESTINATION ${ARG_INSTALL_DESTINATION})
  endif()
endfunction()
