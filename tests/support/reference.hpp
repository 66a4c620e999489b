// Running the independent Python references of tests/reference and reading their JSON.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace headscope::test {

// Runs `/usr/bin/python3 tests/reference/<script> args...`, fails the test on a non-zero exit,
// returns stdout.
std::string run_reference(const std::string& script, const std::vector<std::string>& args);

// JSON list of lists of numbers -> float64 tensor.
torch::Tensor json_matrix(const std::string& json_text, const std::string& key);
std::vector<int64_t> json_ints(const std::string& json_text, const std::string& key);
std::string ids_json(const std::vector<int32_t>& ids);
// Any tensor as nested JSON lists of float64 (a scalar for 0 dimensions).
std::string tensor_json(const torch::Tensor& t);

}  // namespace headscope::test
