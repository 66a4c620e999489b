// Where headscope finds its bundled data (the built-in models and prompt sets). Torch-free.
#pragma once

#include <string>

namespace headscope {

// The data folder, first of:
//   1. $HEADSCOPE_DATA_DIR when set and non-empty;
//   2. the checkout's data/ folder (compile definition HEADSCOPE_DATA_DIR_DEFAULT), when it exists;
//   3. <prefix>/share/headscope/data next to the running executable's <prefix>/bin.
// Returns the first candidate that exists, else the last one tried (so error messages name a
// path).
std::string data_dir();

// data_dir()/models/tiny-world: the model every command uses when MODEL is omitted.
std::string default_model_path();
// data_dir()/models/<name> and data_dir()/prompts/<task>.jsonl.
std::string builtin_model_path(const std::string& name);
std::string builtin_prompts_path(const std::string& task);

}  // namespace headscope
