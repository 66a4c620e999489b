#include "cli_common.hpp"

#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "headscope/default_paths.hpp"
#include "headscope/error.hpp"
#include "headscope/threads.hpp"

namespace headscope::cli {

namespace {
std::string g_command_line;
}

void set_command_line(int argc, char** argv) {
    g_command_line.clear();
    for (int i = 0; i < argc; ++i) {
        std::string arg = argv[i];
        bool quote = arg.empty() || arg.find_first_of(" \t'\"") != std::string::npos;
        g_command_line += (i ? " " : "") + (quote ? "'" + arg + "'" : arg);
    }
}

const std::string& command_line() { return g_command_line; }

void check_output_path(const std::string& option, const std::string& path) {
    namespace fs = std::filesystem;
    if (path.empty()) throw UsageError(option + ": the path is empty");
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw UsageError(option + " " + path + ": is a folder; name a file in it");
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) throw UsageError(option + " " + path + ": cannot create the folder " + dir.string() + " (" + ec.message() + ")");
    } else if (!fs::is_directory(dir, ec)) {
        throw UsageError(option + " " + path + ": " + dir.string() + " is not a folder");
    }
    if (::access(dir.c_str(), W_OK) != 0)
        throw UsageError(option + " " + path + ": the folder " + dir.string() + " is not writable");
}

void add_model_options(CLI::App& cmd, ModelOptions& o) {
    cmd.add_option("MODEL", o.model,
                   "model: a llama2.c .bin checkpoint, a .gguf file or a Hugging Face directory "
                   "(default: the built-in tiny-world model, " + default_model_path() + ")");
    cmd.add_option("--tokenizer", o.tokenizer,
                   "llama2.c only: its tokenizer .bin (default: tokenizer.bin or tok<vocab>.bin next to MODEL)");
    cmd.add_option("--device", o.device, "compute device: cpu, cuda, cuda:N")->capture_default_str();
    cmd.add_option("--dtype", o.dtype, "compute dtype: float32, float64, float16, bfloat16")->capture_default_str();
    cmd.add_option("--threads", o.threads, "at most N CPU threads (default 0: the CPUs this process may use - affinity, cgroup quota, MPI ranks on the node; fewer while other processes keep CPUs busy, see README)");
    cmd.add_option("--max-memory", o.max_memory_gb,
                   "memory budget in GiB: refuse to load when the estimated peak is larger (default: the memory "
                   "available now)");
    cmd.add_option("--weights", o.weights,
                   "weight residency: auto (keep a converted copy of small models), resident, or streamed "
                   "(convert each layer from the memory-mapped file when it runs)")
        ->capture_default_str();
    cmd.add_flag("--verbose", o.verbose, "report load time, the weight policy and the matmul path on stderr");
}

ComputeOptions compute_options(const ModelOptions& o) {
    ComputeOptions c;
    try {
        c.device = c10::Device(o.device);
    } catch (const std::exception&) {
        throw UsageError("--device: unknown device '" + o.device + "' (use cpu, cuda or cuda:N)");
    }
    if (c.device.is_cuda() && !torch::cuda::is_available())
        throw UsageError("--device " + o.device + ": this LibTorch has no CUDA device available");
    if (o.dtype == "float32") c.dtype = at::kFloat;
    else if (o.dtype == "float64") c.dtype = at::kDouble;
    else if (o.dtype == "float16") c.dtype = at::kHalf;
    else if (o.dtype == "bfloat16") c.dtype = at::kBFloat16;
    else throw UsageError("--dtype: unknown dtype '" + o.dtype + "' (use float32, float64, float16 or bfloat16)");
    if (o.weights == "auto") c.residency = WeightResidency::automatic;
    else if (o.weights == "resident") c.residency = WeightResidency::resident;
    else if (o.weights == "streamed") c.residency = WeightResidency::streamed;
    else throw UsageError("--weights: unknown policy '" + o.weights + "' (use auto, resident or streamed)");
    return c;
}

std::string model_path(const ModelOptions& o) {
    if (!o.model.empty()) return o.model;
    const std::string builtin = default_model_path();
    if (!std::filesystem::exists(builtin))
        throw UsageError("no MODEL given and the built-in model is missing at " + builtin +
                         " (set HEADSCOPE_DATA_DIR to the folder holding models/tiny-world, or pass MODEL)");
    return builtin;
}

std::shared_ptr<const Tokenizer> load_tokenizer_only(const ModelOptions& o, std::string* resolved) {
    return load_model_tokenizer(model_path(o), o.tokenizer, resolved);
}

LoadedModel load(const ModelOptions& o) {
    LoadOptions lo;
    lo.tokenizer_path = o.tokenizer;
    lo.compute = compute_options(o);
    lo.max_memory_gb = o.max_memory_gb;
    configure_threads(o.threads);
    set_threads_log(o.verbose);
    const std::string path = model_path(o);
    const auto start = std::chrono::steady_clock::now();
    LoadedModel m = load_model(path, lo);
    if (o.verbose) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cerr << fmt::format("headscope: loaded {} in {:.3f} s\n", path, seconds)
                  << "headscope: weights " << m.model->weight_policy() << "\n"
                  << "headscope: matmul " << m.model->matmul_path() << "\n"
                  << "headscope: " << threads_text() << "\n";
    }
    return m;
}

void add_prompt_options(CLI::App& cmd, PromptOptions& o, bool required) {
    auto* opt = cmd.add_option("--prompt,-p", o.prompt, "prompt text (an empty prompt starts from BOS)");
    if (required) opt->required();
    cmd.add_flag("--no-bos", o.no_bos, "do not prepend the BOS token");
}

std::vector<int32_t> prompt_ids(const Tokenizer& tokenizer, const PromptOptions& o) {
    bool bos = !o.no_bos && tokenizer.bos_id() >= 0;
    std::vector<int32_t> ids = tokenizer.encode(o.prompt, bos).ids;
    if (ids.empty()) {
        if (tokenizer.bos_id() < 0) throw UsageError("the prompt is empty and the tokenizer has no BOS token to start from");
        ids.push_back(tokenizer.bos_id());
    }
    return ids;
}

}  // namespace headscope::cli
