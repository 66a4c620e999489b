// A test plugin whose registration throws: the GUI must list it with this error and keep going.
#include <stdexcept>

#include "headscope/sdk/plugin.hpp"

namespace {
void register_analyses(headscope::AnalysisRegistry&) {
    throw std::runtime_error("deliberate failure while registering (gui test)");
}
}  // namespace

HEADSCOPE_PLUGIN("throwing test plugin", "0.0.1", register_analyses)
