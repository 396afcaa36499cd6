# Common settings for every safetrain target.
add_library(safetrain_flags INTERFACE)
target_compile_options(safetrain_flags INTERFACE -Wall -Wextra)
if(SAFETRAIN_SANITIZE)
  target_compile_options(safetrain_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(safetrain_flags INTERFACE -fsanitize=address,undefined)
endif()
if(SAFETRAIN_SANITIZE_THREAD)
  target_compile_options(safetrain_flags INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(safetrain_flags INTERFACE -fsanitize=thread)
endif()
if(SAFETRAIN_WITH_CUDA)
  target_compile_definitions(safetrain_flags INTERFACE SAFETRAIN_WITH_CUDA=1)
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
