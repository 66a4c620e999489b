#include "headscope/process_memory.hpp"

#include <fstream>
#include <string>

namespace headscope {

namespace {
// "<field>: <n> kB" of a /proc file, in bytes.
int64_t proc_kb_field(const char* file, const std::string& field) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
    return -1;
}
}  // namespace

int64_t resident_bytes() { return proc_kb_field("/proc/self/status", "VmRSS"); }
int64_t peak_resident_bytes() { return proc_kb_field("/proc/self/status", "VmHWM"); }
void reset_peak_resident() { std::ofstream("/proc/self/clear_refs") << "5"; }
int64_t available_memory_bytes() { return proc_kb_field("/proc/meminfo", "MemAvailable"); }

}  // namespace headscope
