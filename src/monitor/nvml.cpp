#include "safetrain/monitor/nvml.hpp"

#include <dlfcn.h>

#ifdef SAFETRAIN_HAVE_NVML_H
#include <nvml.h>
#else
// Without the CUDA toolkit's header, the few declarations used here (stable NVML ABI since v2).
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
#endif

namespace safetrain::monitor {
namespace {

using InitFn = nvmlReturn_t (*)();
using CountFn = nvmlReturn_t (*)(unsigned int*);
using HandleFn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using MemoryFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*);
using NameFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int);

template <typename Fn>
Fn symbol(void* library, const char* name) {
  return reinterpret_cast<Fn>(dlsym(library, name));
}

}  // namespace

Nvml& Nvml::instance() {
  static Nvml nvml;
  return nvml;
}

Nvml::Nvml() {
  library_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library_) {
    status_ = "no NVIDIA driver (libnvidia-ml.so.1 not found)";
    return;
  }
  auto init = symbol<InitFn>(library_, "nvmlInit_v2");
  if (!init || init() != 0) {
    status_ = "NVML present but nvmlInit failed";
    return;
  }
  available_ = true;
  status_ = "NVML ok";
}

Nvml::~Nvml() {
  if (!library_) return;
  if (available_) {
    if (auto shutdown = symbol<InitFn>(library_, "nvmlShutdown")) shutdown();
  }
  dlclose(library_);
}

std::vector<Nvml::Gpu> Nvml::gpus() const {
  std::vector<Gpu> out;
  if (!available_) return out;
  auto count_fn = symbol<CountFn>(library_, "nvmlDeviceGetCount_v2");
  auto handle_fn = symbol<HandleFn>(library_, "nvmlDeviceGetHandleByIndex_v2");
  auto memory_fn = symbol<MemoryFn>(library_, "nvmlDeviceGetMemoryInfo");
  auto name_fn = symbol<NameFn>(library_, "nvmlDeviceGetName");
  unsigned int count = 0;
  if (!count_fn || !handle_fn || !memory_fn || count_fn(&count) != 0) return out;
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t device{};
    nvmlMemory_t memory{};
    if (handle_fn(i, &device) != 0 || memory_fn(device, &memory) != 0) continue;
    char name[96] = "GPU";
    if (name_fn) name_fn(device, name, sizeof name);
    out.push_back({name, static_cast<int64_t>(memory.total), static_cast<int64_t>(memory.used),
                   static_cast<int64_t>(memory.free)});
  }
  return out;
}

}  // namespace safetrain::monitor
