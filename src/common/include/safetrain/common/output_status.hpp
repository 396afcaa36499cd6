#pragma once
// A process-wide record that some output file could not be written. Writers
// that must carry on (the monitor thread, the plots after training) note the
// failure here instead of throwing; guarded_main turns a would-be exit 0 into
// exit 1 and names the first failure, so such a run never reports success.
#include <string>

namespace safetrain {

void note_output_write_failure(const std::string& message);  // thread-safe; keeps the first message
bool output_write_failed();
std::string first_output_write_failure();                       // "" when none
void reset_output_write_failures();                             // for tests

}  // namespace safetrain
