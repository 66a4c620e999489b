#include "formats/safetensors/pickle_advice.hpp"

#include <cstring>
#include <filesystem>

#include "headscope/error.hpp"
#include "headscope/formats/safetensors_file.hpp"

namespace headscope::st {

namespace {
bool ends_with(const std::string& s, const char* suffix) {
    size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}
bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}
}  // namespace

bool is_pickle_weights_name(const std::string& name) {
    if (starts_with(name, "pytorch_model") && ends_with(name, ".bin")) return true;
    return ends_with(name, ".pt") || ends_with(name, ".pth") || ends_with(name, ".ckpt");
}

std::string pickle_refusal_advice() {
    return "headscope refuses PyTorch pickle checkpoints (pytorch_model.bin, *.pt, *.pth) for "
           "safety: loading a pickle can run arbitrary code, so they are never unpickled. Convert "
           "the model to safetensors once, in Python, e.g. "
           "`AutoModelForCausalLM.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)` "
           "(transformers), or `from safetensors.torch import save_file; "
           "save_file(torch.load('pytorch_model.bin', map_location='cpu', weights_only=True), "
           "'model.safetensors')`, then point headscope at the directory holding model.safetensors";
}

namespace {
bool is_zip(const unsigned char* b, size_t n) { return n >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4; }
bool is_pickle_stream(const unsigned char* b, size_t n) { return n >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5; }
}  // namespace

std::string sniff_other_format(const unsigned char* b, size_t n) {
    if (is_zip(b, n))
        return "the file starts like a ZIP archive, the container torch.save uses for pickle "
               "checkpoints. " + pickle_refusal_advice();
    if (is_pickle_stream(b, n))
        return "the file starts like a Python pickle. " + pickle_refusal_advice();
    if (n >= 4 && std::memcmp(b, "GGUF", 4) == 0)
        return "the file is GGUF, not safetensors; open it as a GGUF model instead";
    return {};
}

}  // namespace headscope::st

namespace headscope {

bool is_pickle_checkpoint(const std::string& path, const unsigned char* first, size_t n) {
    return st::is_pickle_weights_name(std::filesystem::path(path).filename().string()) ||
           st::is_zip(first, n) || st::is_pickle_stream(first, n);
}

void refuse_pickle_checkpoint(const std::string& path) { throw FormatError(path, st::pickle_refusal_advice()); }

}  // namespace headscope
