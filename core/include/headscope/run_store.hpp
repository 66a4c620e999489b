// Saving a run (tokens, logits, cached activations) into an ActivationStore (HDF5) with the
// model and prompt as attributes, and reading cached activations back as tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "headscope/activation_store.hpp"
#include "headscope/hooked_transformer.hpp"

namespace headscope {

struct RunProvenance {
    std::string model_path;
    std::string model_format;
    std::string prompt;
    std::vector<std::string> token_texts;  // one per position of the first sequence
    std::string interventions;             // the head edits the run used ("L1H4=zero, ..."); root attribute when set
};

// Writes /tokens [batch,pos] (int64), /logits [batch,pos,vocab] (float32) and
// /activations/<hook name> for every cached activation; root attributes describe the model
// (architecture, sizes), the prompt, headscope's version and the time. Atomic (see
// ActivationStoreWriter).
// `extra` adds float32 datasets (name, tensor), e.g. /loss.
void save_run(const std::string& path, const HookedTransformer& model, const at::Tensor& tokens, const CachedRun& run,
              const RunProvenance& provenance, const std::vector<std::pair<std::string, at::Tensor>>& extra = {});

// Reads a float32 or int64 dataset as a tensor.
at::Tensor read_tensor(const ActivationStoreReader& reader, const std::string& dataset);

}  // namespace headscope
