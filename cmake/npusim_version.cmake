# Writes the header `npusim --version` prints, at every build: git describe
# changes with each commit, and configure_file rewrites the header only when
# its text changes, so an unchanged tree recompiles nothing.
# In: SOURCE_DIR, OUTPUT, NPUSIM_VERSION, NPUSIM_BUILD_TYPE, NPUSIM_COMPILER,
#     NPUSIM_CXX_FLAGS, NPUSIM_NATIVE_BUILD (0/1).
execute_process(
  COMMAND git -C "${SOURCE_DIR}" describe --tags --always --dirty
  OUTPUT_VARIABLE NPUSIM_GIT_DESCRIBE
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE git_status)
if(NOT git_status EQUAL 0 OR NPUSIM_GIT_DESCRIBE STREQUAL "")
  set(NPUSIM_GIT_DESCRIBE "unknown (not built from a git checkout)")
endif()
configure_file("${SOURCE_DIR}/cmake/npusim_version.h.in" "${OUTPUT}" @ONLY)
