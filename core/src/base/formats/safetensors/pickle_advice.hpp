// What to tell a user who hands headscope a PyTorch pickle checkpoint (pytorch_model.bin,
// *.pt, *.pth): such files are never unpickled, because unpickling can run arbitrary code.
#pragma once

#include <string>

namespace headscope::st {

// True for file names that hold pickled PyTorch weights (pytorch_model*.bin, *.pt, *.pth, *.ckpt).
bool is_pickle_weights_name(const std::string& file_name);

// One paragraph: why pickle is refused and how to convert to safetensors in Python.
std::string pickle_refusal_advice();

// A hint when the first bytes of a file look like a format other than safetensors (a PyTorch
// ZIP/pickle checkpoint, GGUF); empty otherwise. `bytes` holds the first `n` bytes.
std::string sniff_other_format(const unsigned char* bytes, size_t n);

}  // namespace headscope::st
