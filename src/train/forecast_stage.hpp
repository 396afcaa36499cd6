#pragma once
#include "session_state.hpp"

namespace safetrain::train {

// Before anything is loaded: the run's memory forecast per phase, logged, handed to the monitor (whose
// report sets each phase's measured peak beside it) and refused with the phase and the key to change
// when it does not fit the host or the device.
void check_memory_forecast(const RunResources& run);

}  // namespace safetrain::train
