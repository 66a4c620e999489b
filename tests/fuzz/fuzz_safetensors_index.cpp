// model.safetensors.index.json of a sharded Hugging Face directory (SafetensorsCheckpoint): the
// input is the index; two small valid shards sit next to it, so a well-formed index opens them.
#include <filesystem>

#include "fuzz_support.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "tensor_reads.hpp"

namespace {

const std::string& checkpoint_dir() {
    static const std::string dir = [] {
        using namespace headscope;
        const std::string d = fuzz::scratch_dir() + "/sharded";
        std::filesystem::create_directories(d);
        const std::vector<float> a{1.f, 2.f, 3.f, 4.f}, b{5.f, 6.f};
        write_safetensors(d + "/model-00001-of-00002.safetensors", {{"a.weight", {2, 2}, a.data()}});
        write_safetensors(d + "/model-00002-of-00002.safetensors", {{"b.weight", {2}, b.data()}});
        return d;
    }();
    return dir;
}

}  // namespace

HEADSCOPE_FUZZ_TARGET {
    using namespace headscope;
    const std::string dir = checkpoint_dir();
    const std::string index = fuzz::write_scratch("sharded/model.safetensors.index.json", data, size);
    fuzz::expect_clean(index, [&] {
        SafetensorsCheckpoint checkpoint(dir);
        fuzz::read_small_tensors(checkpoint);
    });
    return 0;
}
