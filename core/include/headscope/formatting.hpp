// Small text forms used across the core, written once: a tensor shape and a UTC timestamp.
// Torch-free (pass `tensor.sizes().vec()` for a tensor's shape).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace headscope {

// "[512, 64]"; "[]" for a scalar.
std::string shape_string(const std::vector<int64_t>& shape);

// The current time in UTC as ISO 8601, e.g. "2026-12-02T20:43:00Z".
std::string utc_timestamp();

}  // namespace headscope
