// bench_load DIR DTYPE: one measured load + first forward of a checkpoint, in this process so its
// peak RSS is the load's. Prints one JSON line: load_s, first_logits_s, peak_rss_bytes, policy.
// Driven by bench/load.py, which also runs the PyTorch-Python peer and prints the comparison.
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/model_loader.hpp"
#include "headscope/process_memory.hpp"

namespace {
double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: bench_load MODEL float32|bfloat16\n";
        return 2;
    }
    try {
        torch::NoGradGuard no_grad;
        headscope::LoadOptions o;
        o.compute.dtype = std::string(argv[2]) == "bfloat16" ? at::kBFloat16 : at::kFloat;
        const int64_t base_kb = headscope::resident_bytes() / 1024;
        auto t0 = std::chrono::steady_clock::now();
        headscope::LoadedModel m = headscope::load_model(argv[1], o);
        const double load_s = since(t0);
        // A 16-token prompt (ids the bench's byte-level tokenizer gives for ordinary text).
        std::vector<int64_t> ids;
        for (unsigned char ch : std::string("The capital city")) ids.push_back(ch);
        auto t1 = std::chrono::steady_clock::now();
        torch::Tensor logits = m.model->forward(torch::tensor(ids).unsqueeze(0));
        const double logits_s = since(t1);
        const double checksum = logits.to(torch::kDouble).sum().item<double>();
        std::cout << fmt::format(
            "{{\"load_s\": {:.4f}, \"first_logits_s\": {:.4f}, \"peak_rss_bytes\": {}, \"base_rss_bytes\": {}, "
            "\"checksum\": {:.6g}, \"policy\": \"{}\", \"matmul\": \"{}\"}}\n",
            load_s, logits_s, headscope::peak_resident_bytes(), base_kb * 1024, checksum, m.model->weight_policy(),
            m.model->matmul_path());
    } catch (const headscope::Error& e) {
        std::cerr << "bench_load: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
