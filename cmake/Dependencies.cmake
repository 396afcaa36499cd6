# LibTorch comes from the pinned torch wheel (tools/requirements.txt, found through CMAKE_PREFIX_PATH as
# tools/build_env.sh sets it) or any LibTorch >= 2.4 a user points CMAKE_PREFIX_PATH at; everything else
# from Debian bookworm packages (tools/install_deps.sh).
set(SAFETRAIN_PYTHON "" CACHE FILEPATH "Python with torch, pandas and Lightning for the interop tests and bench/")
# A CUDA LibTorch configures only with the CUDA toolkit (its CMake package looks for nvcc and the CUDA
# libraries); say so before its own, vaguer error.
find_path(SAFETRAIN_TORCH_CUDA_CONFIG Caffe2/public/cuda.cmake PATH_SUFFIXES share/cmake NO_CACHE)
find_program(SAFETRAIN_NVCC nvcc HINTS $ENV{CUDA_HOME}/bin /usr/local/cuda/bin)
if(SAFETRAIN_TORCH_CUDA_CONFIG AND NOT SAFETRAIN_NVCC AND NOT CMAKE_CUDA_COMPILER)
  file(GLOB _safetrain_torch_cuda_lib "${SAFETRAIN_TORCH_CUDA_CONFIG}/../../lib/libtorch_cuda.so")
  if(_safetrain_torch_cuda_lib)
    message(FATAL_ERROR "safetrain: the LibTorch in ${SAFETRAIN_TORCH_CUDA_CONFIG}/../.. is a CUDA build and "
      "needs the CUDA toolkit (nvcc) to configure: install it (CUDA_HOME, default /usr/local/cuda), or build "
      "against a CPU LibTorch with SAFETRAIN_TORCH_PREFIX=/path/to/libtorch (README: Building against another LibTorch)")
  endif()
endif()
if(SAFETRAIN_NVCC AND NOT CMAKE_CUDA_COMPILER)
  set(CMAKE_CUDA_COMPILER "${SAFETRAIN_NVCC}")
endif()
find_package(Torch REQUIRED)
if(Torch_VERSION VERSION_LESS 2.4)
  message(FATAL_ERROR "safetrain: LibTorch ${Torch_VERSION} found in ${Torch_DIR}; safetrain needs 2.4 or later "
    "(tools/install_deps.sh installs the pinned one)")
endif()
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(PkgConfig REQUIRED)
# igraph through pkg-config: Debian's igraph CMake config lists static link dependencies
# (libarpack.so, libglpk.so, ...) whose -dev packages are not installed with it; the shared
# library needs none of them at link time.
pkg_check_modules(IGRAPH REQUIRED IMPORTED_TARGET igraph)
pkg_check_modules(PLPLOT REQUIRED IMPORTED_TARGET plplot)
pkg_check_modules(LIBPNG REQUIRED IMPORTED_TARGET libpng)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)  # CRC-32 checksums of checkpoint files
include(${CMAKE_CURRENT_LIST_DIR}/Arrow.cmake)  # the table reader (src/data): CSV and Parquet
if(SAFETRAIN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# The CUDA backend of the accelerator seam (src/device) compiles only when LibTorch itself was built
# with CUDA.
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(SAFETRAIN_WITH_CUDA ON)
else()
  set(SAFETRAIN_WITH_CUDA OFF)
endif()
message(STATUS "safetrain: LibTorch ${Torch_VERSION}, CUDA code paths: ${SAFETRAIN_WITH_CUDA}")

# nvml.h comes from the CUDA toolkit when present; NVML itself is dlopen'ed at
# run time, so the binary runs with and without a driver.
find_path(SAFETRAIN_NVML_INCLUDE_DIR nvml.h
  HINTS /usr/local/cuda/include /usr/local/cuda/targets/x86_64-linux/include)

# Data-parallel training: c10d's NCCL backend exists only in CUDA builds of LibTorch (2.x); its header
# compiles only with USE_C10D_NCCL, which LibTorch does not export to consumers, so src/dist defines it.
set(SAFETRAIN_WITH_NCCL OFF)
if(SAFETRAIN_WITH_CUDA)
  find_file(SAFETRAIN_NCCL_PG_HEADER torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp HINTS ${TORCH_INCLUDE_DIRS})
  if(SAFETRAIN_NCCL_PG_HEADER)
    set(SAFETRAIN_WITH_NCCL ON)
  endif()
endif()
message(STATUS "safetrain: c10d NCCL backend: ${SAFETRAIN_WITH_NCCL}")
