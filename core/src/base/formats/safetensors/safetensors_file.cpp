#include "headscope/formats/safetensors_file.hpp"

#include "formats/safetensors/st_reader.hpp"

namespace headscope {

struct SafetensorsFile::Impl {
    explicit Impl(std::string path) : reader(std::move(path)) {}
    st::Reader reader;
};

SafetensorsFile::SafetensorsFile(std::string path) : impl_(std::make_unique<Impl>(std::move(path))) {}
SafetensorsFile::~SafetensorsFile() = default;

const std::string& SafetensorsFile::path() const { return impl_->reader.path(); }
const std::vector<TensorInfo>& SafetensorsFile::tensors() const { return impl_->reader.tensors(); }
void SafetensorsFile::read_f32(const TensorInfo& info, float* dst) const {
    impl_->reader.read_f32(info, dst);
}
MappedBytes SafetensorsFile::mapped(const TensorInfo& info) const { return impl_->reader.mapped(info); }
const std::vector<std::pair<std::string, std::string>>& SafetensorsFile::metadata() const {
    return impl_->reader.metadata();
}

}  // namespace headscope
