// Writes the seed corpus of every fuzz target into OUT/<target>/, using the project's own
// writers (write_safetensors, the test GGUF encoder, the BPE trainer's tokenizer.json,
// write_results_file, write_prompts_jsonl) and small hand-written files from the formats'
// specifications. Nothing is downloaded. Usage: headscope_fuzz_seeds OUT
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "headscope/bpe_trainer.hpp"
#include "headscope/formats/safetensors_file.hpp"
#include "headscope/tutorial_tasks.hpp"
#include "unit/test_gguf_builder.hpp"

namespace {

namespace fs = std::filesystem;
using namespace headscope;
using namespace headscope::test::gguf;

fs::path g_out;

void seed(const std::string& target, const std::string& name, const std::string& bytes) {
    const fs::path dir = g_out / target;
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void safetensors_seeds() {
    const std::vector<float> w{1.f, -2.f, 0.5f, 3.f, 4.f, 5.f}, b{0.25f, -0.25f};
    const fs::path tmp = g_out / "tmp.safetensors";
    write_safetensors(tmp.string(), {{"layer.weight", {2, 3}, w.data()}, {"layer.bias", {2}, b.data()}},
                      {{"format", "pt"}});
    seed("safetensors_file", "f32.safetensors", slurp(tmp));
    write_safetensors(tmp.string(), {{"scalar", {}, w.data()}, {"empty", {0, 4}, w.data()}});
    seed("safetensors_file", "scalar_empty.safetensors", slurp(tmp));
    fs::remove(tmp);
    // f16 and bf16 entries (the writer only writes f32): header as the specification gives it.
    const std::string header =
        R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}})";
    seed("safetensors_file", "f16_bf16.safetensors",
         le_u64(header.size()) + header + std::string("\x00\x3c\x00\xc0\x80\x3f\x00\xc0", 8));
    seed("safetensors_index", "index.json", R"({"metadata":{"total_size":24},"weight_map":{
"a.weight":"model-00001-of-00002.safetensors","b.weight":"model-00002-of-00002.safetensors"}})");
}

void gguf_seeds() {
    for (uint32_t v : {1u, 2u, 3u}) seed("gguf_file", "tiny_llama_v" + std::to_string(v) + ".gguf", tiny_llama(v).build());
    GgufBuilder q = tiny_llama(3);
    std::string q8(34, '\0');  // one q8_0 block: f16 scale 1.0, 32 int8
    q8[1] = 0x3c;
    for (int i = 0; i < 32; ++i) q8[2 + i] = static_cast<char>(i - 16);
    std::string q4(18, '\0');  // one q4_0 block: f16 scale 0.5, 16 bytes of nibbles
    q4[1] = 0x38;
    for (int i = 0; i < 16; ++i) q4[2 + i] = static_cast<char>(i * 17);
    q.tensor("blk.0.attn_q.weight", {32, 1}, kGgmlQ8_0, q8);
    q.tensor("blk.0.attn_k.weight", {32, 1}, kGgmlQ4_0, q4);
    q.tensor("blk.0.attn_v.weight", {4}, kGgmlF16, std::string("\x00\x3c\x00\xc0\x00\x38\x00\x00", 8));
    q.kv_u32("general.alignment", 32);
    seed("gguf_file", "quantised.gguf", q.build());
}

std::string le_i32(int32_t v) { return le_u32(static_cast<uint32_t>(v)); }

void llama2c_seeds() {
    // dim 8, hidden 16, 1 layer, 2 heads, 1 kv head, vocab 4 (negative: untied), seq_len 8.
    for (int32_t vocab : {4, -4}) {
        std::string bytes = le_i32(8) + le_i32(16) + le_i32(1) + le_i32(2) + le_i32(1) + le_i32(vocab) + le_i32(8);
        const int v = 4, dim = 8, hidden = 16, kv_dim = 4, seq = 8, head = 4;
        size_t floats = v * dim + dim + dim * dim + 2 * dim * kv_dim + dim * dim + dim + 3 * dim * hidden + dim +
                        seq * head;  // + freq_cis (real, imag) halves
        if (vocab < 0) floats += static_cast<size_t>(v * dim);
        for (size_t i = 0; i < floats; ++i) bytes += le_f32(static_cast<float>(i % 7) * 0.125f);
        seed("llama2c_checkpoint", vocab > 0 ? "shared.bin" : "untied.bin", bytes);
    }
    // tokenizer.bin: int32 max_len, then per token f32 score, int32 length, bytes.
    const std::vector<std::string> pieces{"<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", "<0x41>", " ", "a", "b",
                                          " a", "ab", "Once", " upon", "\xC3\xA9"};
    std::string tok = le_i32(6);
    for (size_t i = 0; i < pieces.size(); ++i) tok += le_f32(-static_cast<float>(i)) + le_i32(static_cast<int32_t>(pieces[i].size())) + pieces[i];
    const std::string count = le_u32(static_cast<uint32_t>(pieces.size())).substr(0, 2);
    seed("llama2c_tokenizer", "tokenizer.bin", count + tok);
}

void tokenizer_seeds() {
    BpeTrainer trainer;
    trainer.add_text("the cat sat on the mat. The dog sat on the log, 123 times! \xC3\xA9t\xC3\xA9");
    BpeTrainerOptions options;
    options.max_vocab = 290;
    options.special_tokens = {"<s>", "</s>"};
    const std::string bytelevel = to_hf_tokenizer_json(trainer.train(options));
    seed("tokenizer_json", "byte_level.json", bytelevel);
    seed("tokenizer_json", "byte_level_text.json", bytelevel + "\n#TEXT#\nthe cat <s> sat");
    // SentencePiece-style (Llama): Prepend + Replace normalizers, byte fallback, decoder chain.
    seed("tokenizer_json", "sentencepiece.json", R"({"version":"1.0","added_tokens":[
{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true,"normalized":false},
{"id":2,"content":"</s>","special":true,"lstrip":true,"rstrip":true}],
"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},
{"type":"Replace","pattern":{"String":" "},"content":"▁"},{"type":"Strip","strip_left":false},{"type":"NFC"}]},
"pre_tokenizer":null,
"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
"decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},
{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
"model":{"type":"BPE","dropout":null,"unk_token":"<unk>","byte_fallback":true,"fuse_unk":true,
"vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0x0A>":3,"<0xC3>":4,"<0xA9>":5,"▁":6,"h":7,"e":8,"l":9,"o":10,"▁h":11,"ll":12,"▁he":13,"▁hell":14,"▁hello":15},
"merges":["▁ h","l l","▁h e","▁he ll",["▁hell","o"]]}})");
    // Every pre-tokenizer kind in one Sequence, Metaspace decoder.
    seed("tokenizer_json", "pre_tokenizers.json", R"({"normalizer":{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "},
"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{N}{1,3}"},"behavior":"Isolated","invert":false},
{"type":"Digits","individual_digits":true},{"type":"Whitespace"},{"type":"WhitespaceSplit"},
{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always"},
"model":{"type":"BPE","continuing_subword_prefix":"##","end_of_word_suffix":"</w>","ignore_merges":true,
"vocab":{"a":0,"b":1,"ab":2,"1":3,"##b":4,"ab</w>":5},"merges":["a b"]}})");
    seed("tokenizer_config_json", "strings.json", R"({"bos_token":"<s>","eos_token":"</s>","add_bos_token":true})");
    seed("tokenizer_config_json", "objects.json",
         R"({"bos_token":{"content":"<s>","lstrip":false},"eos_token":null,"model_max_length":1e30})");
}

void hf_config_seeds() {
    seed("hf_config_json", "gpt2.json", R"({"model_type":"gpt2","n_layer":2,"n_head":2,"n_embd":8,"n_positions":16,
"vocab_size":10,"n_inner":null,"activation_function":"gelu_new","layer_norm_epsilon":1e-5,"bos_token_id":0,"eos_token_id":0})");
    seed("hf_config_json", "llama.json", R"({"model_type":"llama","num_hidden_layers":2,"num_attention_heads":4,
"num_key_value_heads":2,"hidden_size":16,"intermediate_size":32,"vocab_size":32,"max_position_embeddings":64,
"rms_norm_eps":1e-6,"rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0},"tie_word_embeddings":true,
"hidden_act":"silu","head_dim":4,"_name_or_path":"tiny"})");
    seed("hf_config_json", "mistral.json", R"({"model_type":"mistral","num_hidden_layers":1,"num_attention_heads":2,
"hidden_size":8,"intermediate_size":16,"vocab_size":8,"max_position_embeddings":4096,"sliding_window":32})");
    seed("hf_config_json", "qwen2.json", R"({"model_type":"qwen2","num_hidden_layers":2,"num_attention_heads":2,
"hidden_size":8,"intermediate_size":16,"vocab_size":8,"use_sliding_window":true,"sliding_window":16,"max_window_layers":1})");
    seed("hf_config_json", "gpt_neox.json", R"({"model_type":"gpt_neox","num_hidden_layers":2,"num_attention_heads":2,
"hidden_size":8,"intermediate_size":32,"vocab_size":16,"max_position_embeddings":32,"rotary_pct":0.25,
"rotary_emb_base":10000,"use_parallel_residual":true,"layer_norm_eps":1e-5,"hidden_act":"gelu"})");
}

void prompt_seeds() {
    tutorial::TaskPrompt p;
    p.task = "ioi";
    p.prompt = "When Mary and John went to the store, John gave a drink to";
    p.answer = " Mary";
    p.alternative = " John";
    p.corrupted_prompt = "When Mary and John went to the store, Mary gave a drink to";
    p.fields = {{"subject", "John"}};
    const fs::path tmp = g_out / "tmp.jsonl";
    tutorial::write_prompts_jsonl(tmp.string(), {p, p});
    seed("prompts_jsonl", "tasks.jsonl", slurp(tmp));
    fs::remove(tmp);
    seed("prompts_jsonl", "sdk.jsonl", "{\"prompt\": \"The cat sat\"}\n\n{\"task\": \"x\", \"prompt\": \"a\", \"answer\": null}\r\n");
}

void results_seeds() {
    seed("results_file", "unchanged", "");
    // [op][object][key][n][bytes]: replace an attribute with JSON, an int, delete one, reshape.
    seed("results_file", "edits", std::string("\x00\x05\x07\x06[1e402", 10) + std::string("\x01\x02\x03\x02\xff\x7f", 6) +
                                      std::string("\x02\x09\x01\x00", 4) + std::string("\x03\x0c\x02\x03\x02\x03\x04", 7));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT\n", argv[0]);
        return 2;
    }
    g_out = argv[1];
    fs::create_directories(g_out);
    safetensors_seeds();
    gguf_seeds();
    llama2c_seeds();
    tokenizer_seeds();
    hf_config_seeds();
    prompt_seeds();
    results_seeds();
    std::printf("seeds written to %s\n", argv[1]);
    return 0;
}
