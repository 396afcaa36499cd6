# Common settings for every safetrain target.
add_library(safetrain_flags INTERFACE)
target_compile_options(safetrain_flags INTERFACE -Wall -Wextra)
# The torch wheel's libtorch.so and libtorch_cpu.so export copies of libstdc++ symbols they were built
# with (std::filesystem, std::chrono::tzdb, ...; manylinux's libstdc++_nonshared). Found first, they serve
# our calls too, and fs::remove_all from libtorch.so jumped to address 0 in an exit-time destructor. With
# libstdc++ as the first needed library, the dynamic linker binds every std:: symbol to the system one.
target_link_options(safetrain_flags INTERFACE "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
# at::parallel_for (the CSV pieces, the pruner's rank passes) is an inline template whose `#pragma omp parallel`
# is compiled into *our* translation units: without -fopenmp it silently runs on one thread. The precompiled
# header carries it too, so every target gets the flag. At run time libgomp.so.1 resolves to the copy the torch
# wheel ships (its lib/ is on our RUNPATH), the one runtime whose thread count torch::set_num_threads sets.
# The ThreadSanitizer tree is the exception: TSan cannot see libgomp's barriers (uninstrumented futexes), so every
# parallel region would report its own join as a race; there parallel_for runs on the calling thread, and TSan
# checks the std::thread code (the monitor, the loader workers).
if(NOT SAFETRAIN_SANITIZE_THREAD)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  target_link_libraries(safetrain_flags INTERFACE OpenMP::OpenMP_CXX)
endif()
# CI's build (./safetrain.sh) turns warnings in our own code into errors; LibTorch's and the other
# libraries' headers are system includes and do not count.
option(SAFETRAIN_WARNINGS_AS_ERRORS "Treat compiler warnings in safetrain's code as errors" OFF)
if(SAFETRAIN_WARNINGS_AS_ERRORS)
  target_compile_options(safetrain_flags INTERFACE -Werror)
endif()
if(SAFETRAIN_SANITIZE)
  target_compile_options(safetrain_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(safetrain_flags INTERFACE -fsanitize=address,undefined)
endif()
if(SAFETRAIN_SANITIZE_THREAD)
  target_compile_options(safetrain_flags INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(safetrain_flags INTERFACE -fsanitize=thread)
endif()

# One precompiled <torch/torch.h> shared by every target that includes LibTorch:
# parsing it dominates the build, and a one-file change then recompiles in seconds.
add_library(safetrain_torch_pch OBJECT ${CMAKE_SOURCE_DIR}/cmake/pch_anchor.cpp)
target_link_libraries(safetrain_torch_pch PUBLIC safetrain_flags "${TORCH_LIBRARIES}")
target_precompile_headers(safetrain_torch_pch PRIVATE <torch/torch.h>)

# safetrain_torch_target(<target>): link LibTorch and reuse the shared PCH.
function(safetrain_torch_target target)
  target_link_libraries(${target} PUBLIC safetrain_flags "${TORCH_LIBRARIES}")
  target_precompile_headers(${target} REUSE_FROM safetrain_torch_pch)
endfunction()
