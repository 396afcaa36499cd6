# Every dependency comes from a Debian bookworm package (see tools/install_deps.sh).
# On a GPU machine, point CMAKE_PREFIX_PATH at a CUDA LibTorch (docs/GPU.md).
find_package(Torch REQUIRED)
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
if(SAFETRAIN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# The CUDA-only code paths (caching-allocator statistics, emptyCache, memory
# fraction) compile only when LibTorch itself was built with CUDA.
if(TORCH_CUDA_LIBRARIES OR CUDA_FOUND OR TARGET torch_cuda)
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
