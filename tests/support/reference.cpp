#include "support/reference.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace headscope::test {

std::string run_reference(const std::string& script, const std::vector<std::string>& args) {
    std::vector<std::string> argv{python(), source_dir() + "/tests/reference/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r = run_command(argv);
    INFO("reference " << script << " stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

torch::Tensor json_matrix(const std::string& text, const std::string& key) {
    auto j = nlohmann::json::parse(text).at(key);
    std::vector<double> flat;
    int64_t rows = static_cast<int64_t>(j.size()), cols = rows ? static_cast<int64_t>(j[0].size()) : 0;
    for (const auto& row : j)
        for (const auto& v : row) flat.push_back(v.get<double>());
    return torch::tensor(flat, torch::kFloat64).view({rows, cols});
}

std::vector<int64_t> json_ints(const std::string& text, const std::string& key) {
    return nlohmann::json::parse(text).at(key).get<std::vector<int64_t>>();
}

std::string ids_json(const std::vector<int32_t>& ids) { return nlohmann::json(ids).dump(); }

namespace {
nlohmann::json nested(const torch::Tensor& t) {
    if (t.dim() == 0) return t.item<double>();
    nlohmann::json out = nlohmann::json::array();
    for (int64_t i = 0; i < t.size(0); ++i) out.push_back(nested(t[i]));
    return out;
}
}  // namespace

std::string tensor_json(const torch::Tensor& t) { return nested(t.detach().to(torch::kCPU, torch::kDouble)).dump(); }

}  // namespace headscope::test
