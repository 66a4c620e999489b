// Finds the BOS and EOS ids of a tokenizer.json. In order:
//   1. tokenizer_config.json beside it (when present): "bos_token"/"eos_token" as a string or
//      {"content": ...}; an explicit null means "none" (Qwen2 has no BOS).
//   2. the post_processor: TemplateProcessing's special token before / after $A,
//      RobertaProcessing/BertProcessing's cls / sep; Sequence searched in order.
//   3. well-known names: BOS "<s>", "<|begin_of_text|>", "<|endoftext|>", "<bos>";
//      EOS "</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>".
// -1 when none is found. GPT-2 gets <|endoftext|> for both.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "tokenizers/hf/json_reader.hpp"

namespace headscope::hf_tok {

struct SpecialTokenIds {
    int32_t bos = -1;
    int32_t eos = -1;
};

// `lookup` maps a token's text to its id (-1 when unknown). `tokenizer_config_path` may name a
// file that does not exist. Throws FormatError when tokenizer_config.json exists but is not
// valid JSON.
SpecialTokenIds find_special_token_ids(const Json& root,
                                       const std::function<int32_t(std::string_view)>& lookup,
                                       const std::string& tokenizer_config_path);

}  // namespace headscope::hf_tok
