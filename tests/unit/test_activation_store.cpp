// ActivationStore round trips: what the writer stores is checked against the values the test
// itself generated, read back both through ActivationStoreReader and, independently, through
// h5py (tests/tools/h5_dump.py), which also reports chunking and compression.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "headscope/activation_store.hpp"
#include "headscope/error.hpp"
#include "support/test_support.hpp"

using headscope::ActivationStoreReader;
using headscope::ActivationStoreWriter;
using headscope::AttributeValue;
using headscope::DatasetInfo;
using headscope::ElementType;
using nlohmann::json;
namespace test = headscope::test;

namespace {

const std::string kPrompt = "Caf\xC3\xA9 \xE2\x80\x94 na\xC3\xAFve";  // "Café — naïve" in UTF-8
const std::string kPatternName = "/activations/blocks.0.attn.hook_pattern";

// Test data, defined here and nowhere else: the ground truth the store must reproduce.
std::vector<float> logits_values() {  // [1, 5, 7]
    std::vector<float> v(35);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(0.37 * i) * 3.0 + 0.01 * i);
    v[3] = -0.0f;
    v[4] = 1e-40f;  // subnormal
    v[5] = 3.0e38f;
    return v;
}
const std::vector<int64_t> kTokens = {1, 403, 12, 7, (int64_t{1} << 40) + 5};  // [1, 5]
std::vector<float> pattern_values() {  // [1, 2, 5, 5]: causal attention rows summing to 1
    std::vector<float> v(50, 0.0f);
    for (int h = 0; h < 2; ++h)
        for (int q = 0; q < 5; ++q)
            for (int k = 0; k <= q; ++k) v[static_cast<size_t>((h * 5 + q) * 5 + k)] = 1.0f / static_cast<float>(q + 1);
    return v;
}

void write_example(const std::string& path) {
    ActivationStoreWriter w(path);
    auto logits = logits_values();
    auto pattern = pattern_values();
    w.write_f32("/logits", {1, 5, 7}, logits.data());
    w.write_i64("/tokens", {1, 5}, kTokens.data());
    w.write_f32(kPatternName, {1, 2, 5, 5}, pattern.data());
    w.set_attribute("/", "prompt", kPrompt);
    w.set_attribute("/", "n_layers", int64_t{-3});
    w.set_attribute("/", "temperature", 0.1);
    w.set_attribute("/", "replaced", std::string("first"));
    w.set_attribute("/", "replaced", int64_t{2});  // overwriting changes the type too
    w.set_attribute("/logits", "unit", std::string("nats"));
    w.set_attribute("/activations", "count", int64_t{1});
    w.set_attribute(kPatternName, "layer", int64_t{0});
    w.commit();
}

json h5py_dump(const std::string& path, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {test::python(), test::source_dir() + "/tests/tools/h5_dump.py", path};
    argv.insert(argv.end(), extra.begin(), extra.end());
    test::CommandResult r = test::run_command(argv);
    INFO("h5_dump.py stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
}

std::vector<float> as_floats(const json& values) {
    std::vector<float> out;
    for (const auto& v : values) out.push_back(static_cast<float>(v.get<double>()));
    return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i] || std::signbit(a[i]) != std::signbit(b[i])) return false;
    return true;
}

const DatasetInfo* find_info(const std::vector<DatasetInfo>& all, const std::string& name) {
    for (const auto& d : all)
        if (d.name == name) return &d;
    return nullptr;
}

}  // namespace

TEST_CASE("ActivationStore round trip through the reader", "[store]") {
    test::TempDir dir;
    const std::string path = dir.file("run.h5");
    write_example(path);

    ActivationStoreReader r(path);
    std::vector<DatasetInfo> all = r.datasets();
    REQUIRE(all.size() == 3);
    const DatasetInfo* logits = find_info(all, "/logits");
    const DatasetInfo* tokens = find_info(all, "/tokens");
    const DatasetInfo* pattern = find_info(all, kPatternName);
    REQUIRE(logits);
    REQUIRE(tokens);
    REQUIRE(pattern);
    CHECK(logits->shape == std::vector<int64_t>{1, 5, 7});
    CHECK(logits->type == ElementType::f32);
    CHECK(tokens->shape == std::vector<int64_t>{1, 5});
    CHECK(tokens->type == ElementType::i64);
    CHECK(pattern->shape == std::vector<int64_t>{1, 2, 5, 5});

    CHECK(r.has("/logits"));
    CHECK(r.has("logits"));  // the leading "/" is optional
    CHECK(r.has(kPatternName));
    CHECK_FALSE(r.has("/activations"));  // a group, not a dataset
    CHECK_FALSE(r.has("/missing"));
    CHECK_FALSE(r.has("/logits/deeper"));
    CHECK(r.info(kPatternName).shape == std::vector<int64_t>{1, 2, 5, 5});

    CHECK(same_bits(r.read_f32("/logits"), logits_values()));
    CHECK(r.read_i64("/tokens") == kTokens);
    CHECK(r.read_f32(kPatternName) == pattern_values());

    auto root = r.attributes("/");
    CHECK(root.size() == 4);
    CHECK(root.at("prompt") == AttributeValue(kPrompt));
    CHECK(root.at("n_layers") == AttributeValue(int64_t{-3}));
    CHECK(root.at("temperature") == AttributeValue(0.1));
    CHECK(root.at("replaced") == AttributeValue(int64_t{2}));
    CHECK(r.attributes("/logits").at("unit") == AttributeValue(std::string("nats")));
    CHECK(r.attributes("/activations").at("count") == AttributeValue(int64_t{1}));
    CHECK(r.attributes(kPatternName).at("layer") == AttributeValue(int64_t{0}));
    CHECK(r.attributes("/tokens").empty());
}

TEST_CASE("ActivationStore files read back identically with h5py", "[store]") {
    test::TempDir dir;
    const std::string path = dir.file("run.h5");
    write_example(path);
    json objects = h5py_dump(path).at("objects");

    std::vector<std::string> names;
    for (auto it = objects.begin(); it != objects.end(); ++it) names.push_back(it.key());
    CHECK(names == std::vector<std::string>{"/", "/activations", kPatternName, "/logits", "/tokens"});

    const json& logits = objects.at("/logits");
    CHECK(logits.at("kind") == "dataset");
    CHECK(logits.at("shape") == json({1, 5, 7}));
    CHECK(logits.at("dtype") == "<f4");
    CHECK(same_bits(as_floats(logits.at("values")), logits_values()));

    const json& tokens = objects.at("/tokens");
    CHECK(tokens.at("shape") == json({1, 5}));
    CHECK(tokens.at("dtype") == "<i8");
    CHECK(tokens.at("values").get<std::vector<int64_t>>() == kTokens);

    const json& pattern = objects.at(kPatternName);
    CHECK(pattern.at("shape") == json({1, 2, 5, 5}));
    CHECK(as_floats(pattern.at("values")) == pattern_values());

    for (const auto& name : {"/logits", "/tokens", kPatternName.c_str()}) {
        INFO(name);
        const json& d = objects.at(name);
        CHECK(d.at("chunks").is_array());
        CHECK(d.at("compression") == "gzip");
        CHECK(d.at("compression_opts") == 4);
        CHECK(d.at("shuffle") == true);
    }
    CHECK(objects.at("/activations").at("kind") == "group");

    const json& root = objects.at("/").at("attrs");
    CHECK(root.size() == 4);
    CHECK(root.at("prompt").at("type") == "str");  // h5py hands it back as a Python str
    CHECK(root.at("prompt").at("value").get<std::string>() == kPrompt);
    CHECK(root.at("prompt").at("string") == json({{"encoding", "utf-8"}, {"vlen", true}}));
    CHECK(root.at("n_layers").at("type") == "int64");
    CHECK(root.at("n_layers").at("value") == -3);
    CHECK(root.at("temperature").at("type") == "float64");
    CHECK(root.at("temperature").at("value").get<double>() == 0.1);
    CHECK(root.at("replaced").at("type") == "int64");
    CHECK(objects.at("/logits").at("attrs").at("unit").at("value") == "nats");
    CHECK(objects.at("/activations").at("attrs").at("count").at("value") == 1);
    CHECK(objects.at(kPatternName).at("attrs").at("layer").at("value") == 0);
}

TEST_CASE("ActivationStore handles scalars, empty arrays and long strings", "[store]") {
    test::TempDir dir;
    const std::string path = dir.file("edge.h5");
    const std::string long_text(200000, 'x');  // far beyond HDF5's 64 KiB compact attribute limit
    {
        ActivationStoreWriter w(path);
        float scalar = 1.25f;
        int64_t count = 9;
        w.write_f32("/scalar", {}, &scalar);
        w.write_i64("/count", {}, &count);
        w.write_f32("/empty", {0, 3}, nullptr);
        w.write_i64("/no_tokens", {0}, nullptr);
        w.write_f32("deep/er/still", {2}, std::vector<float>{1.0f, 2.0f}.data());
        w.set_attribute("/", "long", long_text);
        w.set_attribute("/", "empty_string", std::string());
        w.commit();
    }
    ActivationStoreReader r(path);
    CHECK(r.info("/scalar").shape.empty());
    CHECK(r.read_f32("/scalar") == std::vector<float>{1.25f});
    CHECK(r.read_f32("/scalar", {}, {}) == std::vector<float>{1.25f});
    CHECK(r.read_i64("/count") == std::vector<int64_t>{9});
    CHECK(r.info("/empty").shape == std::vector<int64_t>{0, 3});
    CHECK(r.read_f32("/empty").empty());
    CHECK(r.read_f32("/empty", {0, 1}, {-1, 2}).empty());
    CHECK(r.read_i64("/no_tokens").empty());
    CHECK(r.read_f32("/deep/er/still") == std::vector<float>{1.0f, 2.0f});
    CHECK(r.attributes("/").at("long") == AttributeValue(long_text));
    CHECK(r.attributes("/").at("empty_string") == AttributeValue(std::string()));

    json objects = h5py_dump(path).at("objects");
    CHECK(objects.at("/scalar").at("shape") == json::array());
    CHECK(objects.at("/scalar").at("values") == json({1.25}));
    CHECK(objects.at("/count").at("values") == json({9}));
    CHECK(objects.at("/empty").at("shape") == json({0, 3}));
    CHECK(objects.at("/empty").at("dtype") == "<f4");
    CHECK(objects.at("/no_tokens").at("dtype") == "<i8");
    CHECK(objects.at("/deep/er/still").at("values") == json({1.0, 2.0}));
    CHECK(objects.at("/").at("attrs").at("long").at("value").get<std::string>() == long_text);
}

TEST_CASE("ActivationStore hyperslab reads", "[store]") {
    test::TempDir dir;
    const std::string path = dir.file("slab.h5");
    const std::vector<int64_t> shape = {2, 3, 4, 5};
    auto value = [](int64_t a, int64_t b, int64_t c, int64_t d) {
        return static_cast<float>(a * 1000 + b * 100 + c * 10 + d);
    };
    std::vector<float> data;
    for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 3; ++b)
            for (int64_t c = 0; c < 4; ++c)
                for (int64_t d = 0; d < 5; ++d) data.push_back(value(a, b, c, d));
    {
        ActivationStoreWriter w(path);
        w.write_f32("/x", shape, data.data());
        w.commit();
    }
    ActivationStoreReader r(path);
    auto expected = [&](std::vector<int64_t> start, std::vector<int64_t> count) {
        std::vector<float> out;
        for (int64_t a = start[0]; a < start[0] + count[0]; ++a)
            for (int64_t b = start[1]; b < start[1] + count[1]; ++b)
                for (int64_t c = start[2]; c < start[2] + count[2]; ++c)
                    for (int64_t d = start[3]; d < start[3] + count[3]; ++d) out.push_back(value(a, b, c, d));
        return out;
    };
    CHECK(r.read_f32("/x", {0, 0, 0, 0}, {2, 3, 4, 5}) == data);
    CHECK(r.read_f32("/x", {0, 0, 0, 0}, {-1, -1, -1, -1}) == data);
    CHECK(r.read_f32("/x", {1, 0, 0, 0}, {1, -1, -1, -1}) == expected({1, 0, 0, 0}, {1, 3, 4, 5}));
    CHECK(r.read_f32("/x", {0, 2, 1, 3}, {2, 1, 2, 2}) == expected({0, 2, 1, 3}, {2, 1, 2, 2}));
    CHECK(r.read_f32("/x", {1, 1, 3, 0}, {1, 2, 1, -1}) == expected({1, 1, 3, 0}, {1, 2, 1, 5}));
    CHECK(r.read_f32("/x", {1, 2, 3, 4}, {1, 1, 1, 1}) == std::vector<float>{value(1, 2, 3, 4)});
    CHECK(r.read_f32("/x", {2, 0, 0, 0}, {-1, -1, -1, -1}).empty());  // start at the end: nothing
    CHECK(r.read_f32("/x", {0, 0, 0, 0}, {2, 0, 4, 5}).empty());
}

TEST_CASE("ActivationStore large datasets and compression", "[store]") {
    test::TempDir dir;
    const std::vector<int64_t> shape = {4, 2048, 64};
    const size_t n = 4 * 2048 * 64;
    const double raw_bytes = static_cast<double>(n * sizeof(float));

    // Incompressible-looking data (an LCG) must survive exactly.
    std::vector<float> noise(n);
    uint32_t state = 12345;
    for (auto& x : noise) {
        state = state * 1664525u + 1013904223u;
        x = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
    }
    // Activation-like data with lots of repetition must shrink on disk.
    std::vector<float> smooth(n);
    for (size_t i = 0; i < n; ++i) smooth[i] = static_cast<float>((i % 64) % 7) * 0.5f;

    const std::string noise_path = dir.file("noise.h5");
    const std::string smooth_path = dir.file("smooth.h5");
    {
        ActivationStoreWriter w(noise_path);
        w.write_f32("/activations/blocks.0.hook_resid_post", shape, noise.data());
        w.commit();
    }
    {
        ActivationStoreWriter w(smooth_path);
        w.write_f32("/activations/blocks.0.hook_resid_post", shape, smooth.data());
        w.commit();
    }
    ActivationStoreReader r(noise_path);
    CHECK(r.read_f32("/activations/blocks.0.hook_resid_post") == noise);
    std::vector<float> row = r.read_f32("/activations/blocks.0.hook_resid_post", {3, 2047, 0}, {1, 1, -1});
    CHECK(row == std::vector<float>(noise.end() - 64, noise.end()));
    CHECK(ActivationStoreReader(smooth_path).read_f32("/activations/blocks.0.hook_resid_post") == smooth);

    const auto smooth_size = static_cast<double>(std::filesystem::file_size(smooth_path));
    const auto noise_size = static_cast<double>(std::filesystem::file_size(noise_path));
    CHECK(smooth_size < raw_bytes / 20);  // gzip + shuffle on repetitive data
    CHECK(noise_size < raw_bytes * 1.05);  // and no blow-up on random mantissas

    // h5py agrees on the values (float64 sum) and sees chunks of at most 1 MiB.
    json d = h5py_dump(noise_path, {"--max-values", "0"}).at("objects").at("/activations/blocks.0.hook_resid_post");
    double sum = 0;
    for (float x : noise) sum += x;
    CHECK(d.at("sum").get<double>() == Approx(sum).margin(1e-6));
    CHECK(d.at("compression") == "gzip");
    std::vector<int64_t> chunks = d.at("chunks").get<std::vector<int64_t>>();
    REQUIRE(chunks.size() == 3);
    CHECK(chunks[0] * chunks[1] * chunks[2] * 4 <= (int64_t{1} << 20));
    CHECK(chunks[1] == 2048);  // a whole [2048, 64] slice fits: trailing dimensions stay whole
    CHECK(chunks[2] == 64);

    // A single row longer than the chunk budget is split along its last dimension.
    const std::string wide_path = dir.file("wide.h5");
    std::vector<float> wide(2 * 300000);
    for (size_t i = 0; i < wide.size(); ++i) wide[i] = static_cast<float>(i % 1000);
    {
        ActivationStoreWriter w(wide_path);
        w.write_f32("/wide", {2, 300000}, wide.data());
        w.commit();
    }
    CHECK(ActivationStoreReader(wide_path).read_f32("/wide") == wide);
    json wd = h5py_dump(wide_path, {"--max-values", "0"}).at("objects").at("/wide");
    std::vector<int64_t> wide_chunks = wd.at("chunks").get<std::vector<int64_t>>();
    REQUIRE(wide_chunks.size() == 2);
    CHECK(wide_chunks[0] == 1);
    CHECK(wide_chunks[1] * 4 <= (int64_t{1} << 20));
    CHECK(wd.at("sum").get<double>() == 2.0 * 300.0 * 499500.0);
}
