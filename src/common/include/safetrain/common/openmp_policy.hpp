#pragma once
// LibTorch's OpenMP threads spin while they wait for work. When anything else
// wants the CPU (a browser, a compiler, DataLoader processes) spinning threads
// starve each other: measured on 2 cores, an MLP step ran 60-100x slower with
// 2 intra-op threads than with 1. libgomp reads OMP_WAIT_POLICY only when it
// loads, before main, so the executables re-exec themselves once with
// OMP_WAIT_POLICY=PASSIVE unless the user set a policy.
namespace safetrain {

// Call first thing in main; returns only when no re-exec was needed or it failed.
void ensure_passive_openmp(char** argv);

}  // namespace safetrain
