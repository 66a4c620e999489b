// Running the headscope CLI from the integration tests (HEADSCOPE_CLI is the built executable).
#pragma once

#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace headscope::test {

inline CommandResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), HEADSCOPE_CLI);
    return run_command(args);
}
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace headscope::test
