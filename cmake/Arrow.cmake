# Arrow C++ and Parquet for the table reader (src/data). Two ways to find them, one target for the code
# (safetrain_arrow):
#  - a system or conda Arrow with its CMake packages: -DSAFETRAIN_ARROW_PREFIX=/usr (or the conda prefix), or
#    -DArrow_DIR=.../lib/cmake/Arrow (Parquet_DIR next to it is then found through the same prefix);
#  - otherwise the pinned pyarrow wheel in SAFETRAIN_PYTHON's environment (tools/requirements.txt). The wheel
#    ships libarrow.so.NNNN and libparquet.so.NNNN without the unversioned development links, so they are
#    imported here by their versioned file names (nothing is written into site-packages); CMake puts their
#    folder into the binaries' RPATH, so nothing needs LD_LIBRARY_PATH.
set(SAFETRAIN_ARROW_PREFIX "" CACHE PATH "Prefix of a system Arrow C++ with Parquet (lib/cmake/Arrow); empty = the pyarrow wheel")
add_library(safetrain_arrow INTERFACE)
if(SAFETRAIN_ARROW_PREFIX OR Arrow_DIR)
  find_package(Arrow CONFIG REQUIRED HINTS ${SAFETRAIN_ARROW_PREFIX})
  find_package(Parquet CONFIG REQUIRED HINTS ${SAFETRAIN_ARROW_PREFIX} ${Arrow_DIR}/..)
  target_link_libraries(safetrain_arrow INTERFACE Parquet::parquet_shared Arrow::arrow_shared)
  message(STATUS "safetrain: Arrow ${Arrow_VERSION} from ${Arrow_DIR}")
  return()
endif()
if(NOT SAFETRAIN_PYTHON)
  message(FATAL_ERROR "safetrain: no Arrow C++: run tools/install_deps.sh (the pyarrow wheel, found through "
    "SAFETRAIN_PYTHON as tools/build_env.sh sets it), or point -DSAFETRAIN_ARROW_PREFIX at a system Arrow")
endif()
execute_process(
  COMMAND "${SAFETRAIN_PYTHON}" -c
    "import pyarrow as pa; print(pa.__version__); print(pa.get_include()); print(pa.get_library_dirs()[0])"
  OUTPUT_VARIABLE _arrow_out RESULT_VARIABLE _arrow_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _arrow_rc EQUAL 0)
  message(FATAL_ERROR "safetrain: ${SAFETRAIN_PYTHON} has no pyarrow: run tools/install_deps.sh, or point "
    "-DSAFETRAIN_ARROW_PREFIX at a system Arrow C++ with Parquet")
endif()
string(REPLACE "\n" ";" _arrow_out "${_arrow_out}")
list(GET _arrow_out 0 SAFETRAIN_ARROW_VERSION)
list(GET _arrow_out 1 _arrow_include)
list(GET _arrow_out 2 _arrow_libdir)
# libarrow.so.<major><minor padded>: 26.0.1 -> libarrow.so.2600
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${SAFETRAIN_ARROW_VERSION}")
math(EXPR _arrow_so "${CMAKE_MATCH_1} * 100 + ${CMAKE_MATCH_2}")
foreach(_lib arrow parquet)
  set(_file "${_arrow_libdir}/lib${_lib}.so.${_arrow_so}")
  if(NOT EXISTS "${_file}")
    message(FATAL_ERROR "safetrain: pyarrow ${SAFETRAIN_ARROW_VERSION} has no ${_file}")
  endif()
  add_library(safetrain::${_lib} SHARED IMPORTED)
  set_target_properties(safetrain::${_lib} PROPERTIES IMPORTED_LOCATION "${_file}"
    IMPORTED_SONAME "lib${_lib}.so.${_arrow_so}" INTERFACE_INCLUDE_DIRECTORIES "${_arrow_include}")
endforeach()
# The wheel's Arrow must use the new libstdc++ ABI (_GLIBCXX_USE_CXX11_ABI=1), as the torch wheel and this
# build do: a program calling one of its std::string functions must link (a mismatch is a missing
# std::__cxx11 symbol, said here rather than in every target's link).
include(CheckCXXSourceCompiles)
set(CMAKE_REQUIRED_INCLUDES "${_arrow_include}")
set(CMAKE_REQUIRED_LIBRARIES "${_arrow_libdir}/libarrow.so.${_arrow_so}")
set(CMAKE_REQUIRED_FLAGS "-std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1")
check_cxx_source_compiles("#include <arrow/status.h>
int main() { return static_cast<int>(arrow::Status::OK().ToString().size()); }" SAFETRAIN_ARROW_ABI_MATCHES)
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_LIBRARIES)
unset(CMAKE_REQUIRED_FLAGS)
if(NOT SAFETRAIN_ARROW_ABI_MATCHES)
  message(FATAL_ERROR "safetrain: ${_arrow_libdir}/libarrow.so.${_arrow_so} does not link with the C++11 "
    "string ABI (_GLIBCXX_USE_CXX11_ABI=1) this build uses; use a pyarrow wheel of the manylinux_2_28 kind or "
    "a system Arrow (-DSAFETRAIN_ARROW_PREFIX)")
endif()
file(STRINGS "${_arrow_include}/arrow/util/config.h" _arrow_csv REGEX "#define ARROW_(CSV|WITH_ZLIB|WITH_ZSTD)$")
list(LENGTH _arrow_csv _arrow_features)
if(NOT _arrow_features EQUAL 3)
  message(FATAL_ERROR "safetrain: the Arrow in ${_arrow_include} lacks CSV, zlib or zstd support")
endif()
target_link_libraries(safetrain_arrow INTERFACE safetrain::parquet safetrain::arrow)
message(STATUS "safetrain: Arrow ${SAFETRAIN_ARROW_VERSION} from the pyarrow wheel (${_arrow_libdir})")
