// This process's memory as Linux reports it (/proc/self/status, /proc/meminfo): used by the
// memory budget before a load, by the memory tests and by bench/load. -1 when unknown.
#pragma once

#include <cstdint>

namespace headscope {

int64_t resident_bytes();        // VmRSS
int64_t peak_resident_bytes();   // VmHWM
// Resets VmHWM to the current RSS (Linux >= 4.0), so a later peak_resident_bytes() measures from now.
void reset_peak_resident();
int64_t available_memory_bytes();  // MemAvailable of the machine

}  // namespace headscope
