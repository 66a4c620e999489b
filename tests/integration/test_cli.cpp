// The headscope CLI as a user runs it.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "headscope/model_loader.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

namespace {
CommandResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), HEADSCOPE_CLI);
    return run_command(args);
}
}  // namespace

TEST_CASE("headscope info reports the model's shape", "[cli]") {
    for (const std::string& model : {stories_bin(), stories_gguf()}) {
        CommandResult r = cli({"info", model, "--json"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto j = nlohmann::json::parse(r.out);
        CHECK(j["architecture"] == "llama");
        CHECK(j["n_layers"] == 5);
        CHECK(j["n_heads"] == 8);
        CHECK(j["n_kv_heads"] == 4);
        CHECK(j["d_model"] == 64);
        CHECK(j["d_head"] == 8);
        CHECK(j["d_mlp"] == 172);
        CHECK(j["d_vocab"] == 512);
        CHECK(j["n_ctx"] == 512);
        // 260K parameters: embeddings 512*64 + 5 layers * (2*64 + 4*64*64 ... ) — count them from
        // the published sizes independently of the loader.
        const int64_t d = 64, kv = 32, hidden = 172, layers = 5, vocab = 512;
        const int64_t per_layer = 2 * d + d * d + 2 * kv * d + d * d + 3 * hidden * d;
        // llama2.c ties the classifier to the embedding; this GGUF stores output.weight too.
        const int64_t classifier = model == stories_gguf() ? vocab * d : 0;
        CHECK(j["parameters"] == vocab * d + layers * per_layer + d + classifier);
        CHECK(j["hook_points"].get<int>() > 5 * 20);
    }
    CommandResult text = cli({"info", stories_bin()});
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("n_kv_heads") != std::string::npos);
}

TEST_CASE("headscope tokenize prints ids and pieces as JSON", "[cli]") {
    CommandResult r = cli({"tokenize", stories_gguf(), "Once upon a time", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    auto ids = j["ids"].get<std::vector<int>>();
    REQUIRE(!ids.empty());
    CHECK(ids[0] == 1);  // BOS
    CHECK(j["tokens"].size() == ids.size());
    CommandResult nobos = cli({"tokenize", stories_gguf(), "Once upon a time", "--json", "--no-bos"});
    auto ids2 = nlohmann::json::parse(nobos.out)["ids"].get<std::vector<int>>();
    CHECK(ids2 == std::vector<int>(ids.begin() + 1, ids.end()));
}

TEST_CASE("headscope generate is greedy at temperature 0 and starts from BOS on an empty prompt", "[cli][reference]") {
    std::vector<int64_t> expected =
        json_ints(run_reference("llama2c_reference.py", {stories_bin(), "greedy", "20"}), "ids");
    CommandResult r = cli({"generate", stories_bin(), "--tokenizer", stories_tokenizer(), "--prompt", "",
                           "--max-tokens", "20", "--ids"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<int64_t> got;
    std::istringstream in(r.out);
    for (int64_t id; in >> id;) got.push_back(id);
    CHECK(got == expected);
    CommandResult text = cli({"generate", stories_bin(), "--prompt", "Once upon a time", "--max-tokens", "30"});
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.rfind("Once upon a time", 0) == 0);
    CHECK(text.out.size() > 40);
}

TEST_CASE("headscope run writes tokens, logits and activations that h5py reads", "[cli][store]") {
    TempDir tmp;
    const std::string out = tmp.file("run.h5");
    CommandResult r = cli({"run", stories_gguf(), "--prompt", "The cat sat", "--cache", "blocks.*.attn.hook_pattern",
                           "--cache", "hook_embed", "--out", out});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // Read with h5py, independently of headscope, and recompute the logits with headscope's
    // forward to compare.
    const char* script = R"PY(
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
acts = sorted(f["activations"].keys())
print(json.dumps({
  "tokens": f["tokens"][...].tolist(),
  "logits_shape": list(f["logits"].shape),
  "logits_last": f["logits"][0, -1, :].astype(float).tolist(),
  "activations": acts,
  "pattern_shape": list(f["activations"]["blocks.0.attn.hook_pattern"].shape),
  "pattern_rowsums": f["activations"]["blocks.0.attn.hook_pattern"][...].sum(-1).reshape(-1).astype(float).tolist(),
  "compression": f["logits"].compression,
  "prompt": f.attrs["prompt"],
  "architecture": f.attrs["architecture"],
}))
)PY";
    CommandResult py = run_command({python(), "-c", script, out});
    INFO(py.err);
    REQUIRE(py.exit_code == 0);
    auto j = nlohmann::json::parse(py.out);
    CHECK(j["prompt"] == "The cat sat");
    CHECK(j["architecture"] == "llama");
    CHECK(j["compression"] == "gzip");
    CHECK(j["activations"].size() == 6);
    auto tokens = j["tokens"][0].get<std::vector<int64_t>>();
    CHECK(j["logits_shape"] == std::vector<int64_t>{1, static_cast<int64_t>(tokens.size()), 512});
    CHECK(j["pattern_shape"] == std::vector<int64_t>{1, 8, static_cast<int64_t>(tokens.size()), static_cast<int64_t>(tokens.size())});
    for (double s : j["pattern_rowsums"].get<std::vector<double>>()) CHECK(s == Approx(1.0).epsilon(1e-5));
    LoadedModel m = load_model(stories_gguf());
    torch::NoGradGuard no_grad;
    torch::Tensor logits = m.model->forward(torch::tensor(tokens, torch::kLong).unsqueeze(0));
    auto last = j["logits_last"].get<std::vector<double>>();
    torch::Tensor expect = logits[0][-1].to(torch::kFloat64);
    CHECK((torch::tensor(last, torch::kFloat64) - expect).abs().max().item<double>() < 1e-6);
    // No temporary file left behind.
    size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(tmp.path())) files += e.is_regular_file();
    CHECK(files == 1);
}

TEST_CASE("headscope reports bad input with a message and a non-zero exit", "[cli][errors]") {
    TempDir tmp;
    CommandResult missing = cli({"info", tmp.file("nope.gguf")});
    CHECK(missing.exit_code != 0);
    CHECK(missing.err.find("nope.gguf") != std::string::npos);

    std::string bytes = read_file(stories_gguf());
    write_file(tmp.file("cut.gguf"), bytes.substr(0, bytes.size() / 2));
    CommandResult cut = cli({"info", tmp.file("cut.gguf")});
    CHECK(cut.exit_code == 1);
    CHECK(cut.err.find("cut.gguf") != std::string::npos);

    std::string bin = read_file(stories_bin());
    write_file(tmp.file("cut.bin"), bin.substr(0, 1000));
    CommandResult cutbin = cli({"info", tmp.file("cut.bin"), "--tokenizer", stories_tokenizer()});
    CHECK(cutbin.exit_code == 1);
    CHECK(cutbin.err.find("cut.bin") != std::string::npos);

    write_file(tmp.file("pytorch_model.bin"), std::string("\x80\x02}q\x00.", 6));
    CommandResult pickle = cli({"info", tmp.file("pytorch_model.bin")});
    CHECK(pickle.exit_code == 1);
    CHECK(pickle.err.find("safetensors") != std::string::npos);

    CommandResult badcache = cli({"run", stories_gguf(), "--prompt", "x", "--cache", "blocks.99.nothing", "--out",
                                  tmp.file("x.h5")});
    CHECK(badcache.exit_code == 1);
    CHECK(badcache.err.find("blocks.99.nothing") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(tmp.file("x.h5")));

    CommandResult usage = cli({"generate", "--no-such-option"});
    CHECK(usage.exit_code != 0);
}

TEST_CASE("headscope tokenize takes a tokenizer.json or its directory without a model", "[cli][hf_tokenizer]") {
    const std::string dir = shared_dir() + "/tokenizers/gpt2";
    for (const std::string& path : {dir, dir + "/tokenizer.json"}) {
        CommandResult r = cli({"tokenize", path, "Hello world", "--json", "--no-bos"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto j = nlohmann::json::parse(r.out);
        CHECK(j["ids"] == std::vector<int>{15496, 995});  // GPT-2's published ids
        CHECK(j["tokens"] == std::vector<std::string>{"Hello", "\u0120world"});
    }
    CommandResult bos = cli({"tokenize", dir, "Hello world", "--json"});
    CHECK(nlohmann::json::parse(bos.out)["ids"] == std::vector<int>{50256, 15496, 995});
}
