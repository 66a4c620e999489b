#include "loaders/hf_model.hpp"

#include "headscope/error.hpp"

namespace headscope {

LoadedModel load_hf_model(const std::string& directory, const LoadOptions&) {
    throw UsageError(directory + ": Hugging Face model directories are not supported yet");
}

}  // namespace headscope
