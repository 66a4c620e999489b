// Memory-mapped weights in their stored dtype (issue 12): streamed layers give the resident
// (pre-mmap) numbers on every fixture; the peak memory of load + forward stays near the file
// size; quantised GGUF layers stay quantised; info reads headers only; the budget refuses.
#include <sys/resource.h>
#include <sys/wait.h>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "headscope/error.hpp"
#include "headscope/factored_matrix.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/process_memory.hpp"
#include "support/reference.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {

int64_t status_kb(const std::string& field) {
    return (field == "VmHWM" ? peak_resident_bytes() : resident_bytes()) / 1024;
}
void reset_peak() { reset_peak_resident(); }

std::string make_checkpoint(const TempDir& tmp, const std::vector<std::string>& args) {
    std::vector<std::string> argv{python(), source_dir() + "/tests/tools/llama_checkpoint.py", "--out", tmp.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r = run_command(argv);
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, r.out.find('\n'));
}

torch::Tensor prompt16() {
    return torch::tensor(std::vector<int64_t>{1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33, 32, 65, 66},
                         torch::kLong)
        .unsqueeze(0);
}

LoadedModel load_with(const std::string& path, WeightResidency residency, at::ScalarType dtype = at::kFloat,
                      const std::string& tokenizer = {}) {
    LoadOptions o;
    o.tokenizer_path = tokenizer;
    o.compute.residency = residency;
    o.compute.dtype = dtype;
    return load_model(path, o);
}

struct Fixture {
    std::string name, path, tokenizer;
};

}  // namespace

TEST_CASE("streamed layers give bit-identical logits to resident weights on every fixture", "[mmap]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    std::vector<Fixture> fixtures{{"stories260K.bin", stories_bin(), stories_tokenizer()},
                                  {"stories260K-f32.gguf", stories_gguf(), ""},
                                  {"tiny-world", source_dir() + "/data/models/tiny-world", ""},
                                  {"induction-2l", source_dir() + "/data/models/induction-2l", ""}};
    const std::vector<std::vector<std::string>> hf = {
        {"gpt2"}, {"gpt_neox"}, {"llama", "--gqa", "--bias"}, {"llama", "--shards", "3"},
        {"llama", "--dtype", "BF16"}, {"llama", "--dtype", "F16", "--tied"}, {"gpt2", "--dtype", "BF16"}};
    for (size_t i = 0; i < hf.size(); ++i) {
        const std::string dir = tmp.file("hf" + std::to_string(i));
        std::vector<std::string> args{"write", hf[i][0], dir};
        args.insert(args.end(), hf[i].begin() + 1, hf[i].end());
        run_reference("hf_reference.py", args);
        fixtures.push_back({"hf " + hf[i][0] + (hf[i].size() > 1 ? " " + hf[i][1] : ""), dir, ""});
    }
    // Every GGUF storage type in one file (q8_0, q4_0, f16, bf16 and f32 layer matrices).
    REQUIRE(run_command({python(), source_dir() + "/tests/tools/gguf_writer.py", "--out", tmp.file("gguf"),
                         "--version", "3"})
                .exit_code == 0);
    fixtures.push_back({"mixed-type GGUF", tmp.file("gguf") + "/model.gguf", ""});

    // One pass over the fixtures (sections would re-run the body, and write every fixture again, per fixture).
    for (const Fixture& f : fixtures) {
        INFO(f.name);
        {
            LoadedModel resident = load_with(f.path, WeightResidency::resident, at::kFloat, f.tokenizer);
            LoadedModel streamed = load_with(f.path, WeightResidency::streamed, at::kFloat, f.tokenizer);
            REQUIRE(resident.model->residency() == WeightResidency::resident);
            REQUIRE(streamed.model->residency() == WeightResidency::streamed);
            const int64_t V = resident.model->config().d_vocab;
            torch::Tensor tokens = torch::arange(1, 13, torch::kLong).remainder(V).unsqueeze(0);
            torch::Tensor a = resident.model->forward(tokens), b = streamed.model->forward(tokens);
            CHECK(a.scalar_type() == torch::kFloat);
            CHECK(torch::equal(a, b));
            // Per-layer reads for analyses: the same canonical weights either way.
            const int last = resident.model->config().n_layers - 1;
            CHECK(torch::equal(resident.model->layer_weights(last).W_Q, streamed.model->layer_weights(last).W_Q));
            CHECK(torch::equal(qk_circuit(*resident.model, 0).A(), qk_circuit(*streamed.model, 0).A()));
        }
    }
}

TEST_CASE("bf16 weights stay mapped views in their stored dtype; half compute matches fp32", "[mmap]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    const std::string dir = tmp.file("bf16");
    run_reference("hf_reference.py", {"write", "llama", dir, "--gqa", "--dtype", "BF16"});
    LoadedModel streamed = load_with(dir, WeightResidency::streamed);
    const LayerWeights& L = streamed.model->weights().layers[0];
    CHECK(L.W_Q.scalar_type() == torch::kBFloat16);
    CHECK_FALSE(L.W_Q.is_contiguous());  // [H, d_model, d_head] view of q_proj [H*d_head, d_model]
    CHECK(streamed.model->weight_policy().find("streamed") == 0);
    // The model's bf16 forward and its fp32 forward agree to bf16 precision.
    LoadedModel half = load_with(dir, WeightResidency::automatic, at::kBFloat16);
    torch::Tensor f = streamed.model->forward(prompt16().remainder(64));
    torch::Tensor h = half.model->forward(prompt16().remainder(64)).to(torch::kFloat);
    CHECK((f - h).abs().max().item<double>() <= 0.05 * f.abs().max().item<double>());
    // And the independent PyTorch reference agrees with the streamed fp32 forward.
    std::vector<int64_t> ids{1, 5, 9, 13, 17, 21};
    std::string idj = "[1, 5, 9, 13, 17, 21]";
    nlohmann::json ref = nlohmann::json::parse(run_reference("hf_reference.py", {"logits", dir, idj}));
    torch::Tensor mine = streamed.model->forward(torch::tensor(ids).unsqueeze(0))[0];
    std::vector<float> flat;
    for (const auto& row : ref["logits"])
        for (const auto& v : row) flat.push_back(v.get<float>());
    torch::Tensor theirs = torch::tensor(flat).view(mine.sizes());
    CHECK((mine - theirs).abs().max().item<double>() <= 1e-4 * (1 + theirs.abs().max().item<double>()));
}

namespace {
// Load + forward of the ~200 MB bf16 checkpoint; returns the peak growth over the RSS at the start.
// The automatic policy streams it in fp32 (a 400 MB fp32 copy is over the resident limit) and
// keeps it resident in bf16 (200 MB); the peak asserted is the streamed one.
double peak_ratio(at::ScalarType dtype) {
    TempDir tmp;
    const std::string file = make_checkpoint(tmp, {"--format", "hf", "--dtype", "bf16", "--shape", "test200"});
    const double size = static_cast<double>(fs::file_size(file));
    REQUIRE(size > 190e6);
    {
        torch::Tensor warm = torch::ones({64, 64}).mm(torch::ones({64, 64}));  // LibTorch's own start-up
    }
    reset_peak();
    const int64_t base_kb = status_kb("VmRSS");
    {
        torch::NoGradGuard no_grad;
        LoadedModel m = load_with(tmp.path(), dtype == at::kFloat ? WeightResidency::automatic : WeightResidency::streamed, dtype);
        CHECK(m.model->residency() == WeightResidency::streamed);
        torch::Tensor logits = m.model->forward(prompt16());
        CHECK(logits.size(2) == 8192);
        CHECK(torch::isfinite(logits).all().item<bool>());
    }
    const int64_t peak_kb = status_kb("VmHWM");
    const double ratio = static_cast<double>(peak_kb - base_kb) * 1024.0 / size;
    INFO("peak growth " << (peak_kb - base_kb) / 1024 << " MiB for a " << size / (1 << 20) << " MiB file");
    return ratio;
}
}  // namespace

TEST_CASE("load + forward of a 200 MB bf16 Llama in fp32 peaks under 1.35x the file", "[mmap][memory]") {
    const double r = peak_ratio(at::kFloat);
    INFO("VmHWM growth / file = " << r);
    CHECK(r <= 1.35);
}

TEST_CASE("load + forward of a 200 MB bf16 Llama in bf16 peaks under 1.35x the file", "[mmap][memory]") {
    const double r = peak_ratio(at::kBFloat16);
    INFO("VmHWM growth / file = " << r);
    CHECK(r <= 1.35);
}

TEST_CASE("q4_0 GGUF layers stay quantised: resident memory is the file plus one dequantised layer", "[mmap][memory][gguf]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    const std::string file = make_checkpoint(tmp, {"--format", "gguf", "--dtype", "q4_0", "--shape", "q4test"});
    const double size = static_cast<double>(fs::file_size(file));
    reset_peak();
    const int64_t base_kb = status_kb("VmRSS");
    LoadedModel m = load_model(file);
    CHECK(m.model->residency() == WeightResidency::streamed);
    const ModelWeights& w = m.model->weights();
    CHECK(w.deferred.size() == static_cast<size_t>(7 * m.model->config().n_layers));  // q k v o gate up down
    CHECK_FALSE(w.layers[0].W_Q.defined());  // still blocks in the map, not a tensor
    const double after_load = static_cast<double>(status_kb("VmRSS") - base_kb);
    torch::Tensor logits = m.model->forward(prompt16());
    CHECK(torch::isfinite(logits).all().item<bool>());
    const double after_forward = static_cast<double>(status_kb("VmHWM") - base_kb) * 1024.0;
    // A dequantised layer equals numpy's reading of the same blocks (first rows of attn_q).
    const LayerWeights L0 = m.model->layer_weights(0);
    CHECK(L0.W_Q.scalar_type() == torch::kFloat);
    CHECK(L0.W_Q.sizes() == torch::IntArrayRef({16, 1024, 64}));
    double layer_fp32 = 0;  // bytes of one layer's weights in fp32
    for (const at::Tensor* t : {&L0.W_Q, &L0.W_K, &L0.W_V, &L0.W_O, &L0.W_gate, &L0.W_in, &L0.W_out})
        layer_fp32 += static_cast<double>(t->numel()) * 4.0;
    const double all_fp32 = layer_fp32 * m.model->config().n_layers;
    INFO("file " << size / (1 << 20) << " MiB, one fp32 layer " << layer_fp32 / (1 << 20) << " MiB; resident after load "
                 << after_load / 1024 << " MiB, peak over a forward " << after_forward / (1 << 20) << " MiB");
    CHECK(after_load * 1024.0 <= 0.2 * size);  // nothing dequantised at load
    // The forward holds the file and one layer at a time, dequantised once: the canonical layout
    // and the GEMM matrices are views of the dequantised [out, in] blocks (measured: file 53 MiB
    // + 1.2 layers, the rest activations), never the whole model in fp32 (here 6 layers, ~7x the file).
    CHECK(after_forward <= size + 1.5 * layer_fp32);
    CHECK(after_forward < 0.75 * all_fp32);
}

TEST_CASE("run with --max-memory 0.1 refuses the 200 MB checkpoint with the estimate and writes nothing", "[mmap][cli]") {
    TempDir tmp;
    make_checkpoint(tmp, {"--format", "hf", "--dtype", "bf16", "--shape", "test200"});
    TempDir out;
    CommandResult r = run_command({HEADSCOPE_CLI, "run", tmp.path(), "--prompt", "hello", "--max-memory", "0.1",
                                   "--out", out.file("run.h5")});
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("estimated") && Catch::Contains("0.10 GiB") && Catch::Contains("--max-memory"));
    CHECK(fs::is_empty(out.path()));
    // Without the limit the same command runs.
    CommandResult ok = run_command({HEADSCOPE_CLI, "run", tmp.path(), "--prompt", "hello", "--out", out.file("run.h5"),
                                    "--verbose"});
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.err, Catch::Contains("weights streamed") && Catch::Contains("matmul"));
    CHECK(fs::exists(out.file("run.h5")));
}

TEST_CASE("info reads headers only: an 8B-shaped checkpoint of holes answers with little memory", "[mmap][cli]") {
    TempDir tmp;
    make_checkpoint(tmp, {"--format", "hf", "--dtype", "bf16", "--shape", "8b", "--sparse"});
    CommandResult r = run_command({HEADSCOPE_CLI, "info", tmp.path(), "--json"});
    REQUIRE(r.exit_code == 0);
    struct rusage usage {};
    getrusage(RUSAGE_CHILDREN, &usage);
    nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["parameters"].get<int64_t>() == 8030261248);  // Llama-3-8B
    CHECK(j["storage"] == "bf16");
    CHECK(j["stored_bytes"].get<int64_t>() == 2 * int64_t{8030261248});
    CHECK_THAT(j["weights"].get<std::string>(), Catch::StartsWith("streamed"));
    INFO("max RSS of headscope info: " << usage.ru_maxrss / 1024 << " MiB");
    CHECK(usage.ru_maxrss < 400 * 1024);  // kB; the file is 16 GB
    // tokenize needs no weight either.
    CHECK(run_command({HEADSCOPE_CLI, "tokenize", tmp.path(), "hello"}).exit_code == 0);
}

TEST_CASE("rotary tables cover the positions used, not the claimed context", "[mmap][rotary]") {
    torch::NoGradGuard no_grad;
    LoadedModel m = load_model(stories_gguf());
    ModelConfig c = m.model->config();
    c.n_ctx = 1 << 24;  // the largest context a checkpoint may claim (kMaxContextLength)
    reset_peak();
    const int64_t base_kb = status_kb("VmRSS");
    HookedTransformer huge(c, m.model->weights());
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>{1, 403, 407, 261, 378, 11}).unsqueeze(0);
    CHECK(torch::equal(huge.forward(tokens), m.model->forward(tokens)));
    CHECK(status_kb("VmHWM") - base_kb < 64 * 1024);
}

TEST_CASE("the streamed path runs on every available device in the stored dtype", "[mmap][device]") {
    torch::NoGradGuard no_grad;
    TempDir tmp;
    const std::string dir = tmp.file("bf16");
    run_reference("hf_reference.py", {"write", "llama", dir, "--gqa", "--dtype", "BF16"});
    const torch::Tensor tokens = torch::arange(1, 9, torch::kLong).unsqueeze(0);
    const torch::Tensor expected = load_with(dir, WeightResidency::resident).model->forward(tokens);
    for (const std::string device : {"cpu", "cuda"}) {
        DYNAMIC_SECTION(device) {
            if (device == "cuda" && !torch::cuda::is_available()) {
                WARN("skipped: this LibTorch has no CUDA device (the same code path ran on cpu above)");
                continue;
            }
            LoadOptions o;
            o.compute.device = c10::Device(device);
            o.compute.residency = WeightResidency::streamed;
            LoadedModel m = load_model(dir, o);
            // Stored weights stay on the host in bf16; each layer moves to the device when it runs.
            CHECK(m.model->weights().layers[0].W_Q.device().is_cpu());
            CHECK(m.model->weights().layers[0].W_Q.scalar_type() == torch::kBFloat16);
            CHECK(m.model->layer_weights(0).W_Q.device() == o.compute.device);
            torch::Tensor logits = m.model->forward(tokens).cpu();
            CHECK((logits - expected).abs().max().item<double>() <= 1e-4 * (1 + expected.abs().max().item<double>()));
        }
    }
}
