// headscope.Model (a loaded model: forward passes, tokens, weights, generation), headscope.Config
// and headscope.Tokenizer. TransformerLens' names where its users have habits: m(x),
// m.run_with_cache, m.run_with_hooks, m.to_tokens, m.to_str_tokens, m.cfg.
#include <ATen/ATen.h>

#include <fmt/format.h>

#include "bindings.hpp"
#include "headscope/generation.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope::python {

namespace {

// The shared handle of the model's tokenizer, as Python holds it.
struct TokenizerObject {
    std::shared_ptr<const Tokenizer> tokenizer;
};

std::vector<int32_t> ids_of(py::handle ids) {
    if (THPVariable_Check(ids.ptr())) {
        at::Tensor t = THPVariable_Unpack(ids.ptr()).to(at::kCPU, at::kLong).flatten();
        std::vector<int32_t> out(static_cast<size_t>(t.numel()));
        const int64_t* p = t.data_ptr<int64_t>();
        for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int32_t>(p[i]);
        return out;
    }
    if (py::isinstance<py::int_>(ids)) return {ids.cast<int32_t>()};
    return ids.cast<std::vector<int32_t>>();
}

// Mean next-token cross-entropy of logits [B, T, V] for tokens [B, T] (float32 scalar).
at::Tensor next_token_loss(const at::Tensor& logits, const at::Tensor& tokens) {
    const int64_t T = logits.size(1);
    if (T < 2) throw UsageError("return_type='loss' needs at least two positions");
    at::Tensor lp = at::log_softmax(logits.narrow(1, 0, T - 1).to(at::kFloat), -1);
    at::Tensor next = tokens.narrow(1, 1, T - 1).to(lp.device()).unsqueeze(-1);
    return -lp.gather(-1, next).mean();
}

py::object shaped_output(const at::Tensor& logits, const at::Tensor& tokens, const std::string& return_type) {
    if (return_type == "logits") return py::cast(logits);
    if (return_type == "loss") return py::cast(next_token_loss(logits, tokens));
    if (return_type == "both") return py::make_tuple(logits, next_token_loss(logits, tokens));
    if (return_type == "none") return py::none();
    throw UsageError("return_type: 'logits', 'loss', 'both' or 'none', not '" + return_type + "'");
}

// Runs with hooks for this call only (interventions first, then fwd_hooks), GIL released.
at::Tensor forward_with(Model& m, const at::Tensor& tokens, std::vector<NamedHook> hooks) {
    py::gil_scoped_release release;
    if (hooks.empty()) return m.model().forward(tokens);
    return m.model().run_with_hooks(tokens, hooks);
}

std::vector<NamedHook> call_hooks(Model& m, py::handle intervene, py::handle fwd_hooks) {
    std::vector<NamedHook> hooks = intervention_hooks(m.model(), intervene);
    for (auto& h : forward_hooks(m.model(), fwd_hooks)) hooks.push_back(std::move(h));
    return hooks;
}

std::vector<std::string> names_filter(const HookedTransformer& model, py::handle filter, bool* nothing) {
    *nothing = false;
    if (filter.is_none()) return {};
    std::vector<std::string> names;
    if (!py::isinstance<py::str>(filter) && PyCallable_Check(filter.ptr())) {
        for (const HookPoint& p : model.hook_points())
            if (filter(p.name).cast<bool>()) names.push_back(p.name);
        *nothing = names.empty();
        return names;
    }
    names = to_strings(filter, "names_filter");
    for (const auto& n : names)
        if (model.resolve_hooks(n).empty())
            throw UsageError("names_filter: no hook point matches '" + n + "' (see m.hook_points())");
    *nothing = names.empty();
    return names;
}

py::tuple run_with_cache(Model& m, py::handle x, py::handle filter, py::handle intervene, py::handle fwd_hooks,
                         bool prepend_bos) {
    at::Tensor tokens = to_tokens(m, x, prepend_bos);
    bool nothing = false;
    std::vector<std::string> names = names_filter(m.model(), filter, &nothing);
    std::vector<NamedHook> hooks = call_hooks(m, intervene, fwd_hooks);
    CachedRun run;
    {
        py::gil_scoped_release release;
        if (nothing) run.logits = hooks.empty() ? m.model().forward(tokens) : m.model().run_with_hooks(tokens, hooks);
        else run = m.model().run_with_cache(tokens, names, hooks);
    }
    return py::make_tuple(run.logits, std::move(run.cache));
}

const at::Tensor* find_weight(const ModelWeights& weights, const std::string& name) {
    const at::Tensor* found = nullptr;
    for_each_weight(weights, [&](const std::string& n, const at::Tensor& t) {
        if (n == name) found = &t;
    });
    return found;
}

at::Tensor weight(Model& m, const std::string& name) {
    const ModelWeights& w = m.model().weights();
    const at::Tensor* t = find_weight(w, name);
    if (!t)
        throw UsageError("no weight named '" + name +
                         "' (names look like 'W_E', 'blocks.0.attn.W_Q', 'blocks.0.mlp.W_in', 'ln_final.w', 'W_U'; "
                         "see m.weights())");
    if (!t->defined()) {
        for (const DeferredWeight& d : w.deferred)
            if (d.layer >= 0 && t == &(w.layers[static_cast<size_t>(d.layer)].*d.field))
                throw UsageError(name + " is stored quantised in the file and dequantised when its layer runs: read a "
                                        "dequantised copy with m.layer_weights(" + std::to_string(d.layer) + ")");
        throw UsageError("this model has no " + name);
    }
    return *t;
}

py::dict weights_dict(const ModelWeights& w) {
    py::dict out;
    for_each_weight(w, [&](const std::string& n, const at::Tensor& t) {
        if (t.defined()) out[py::str(n)] = t;
    });
    return out;
}

py::object generate(Model& m, py::handle x, int max_new_tokens, double temperature, uint64_t seed, bool stop_at_eos,
                    py::handle intervene, py::handle fwd_hooks, bool prepend_bos, py::object on_token,
                    const std::string& return_type) {
    at::Tensor tokens = to_tokens(m, x, prepend_bos);
    if (tokens.size(0) != 1) throw UsageError("generate: one prompt at a time");
    std::vector<int32_t> prompt = ids_of(py::cast(tokens));
    GenerateOptions o;
    o.max_tokens = max_new_tokens;
    o.temperature = temperature;
    o.seed = seed;
    o.stop_at_eos = stop_at_eos;
    std::vector<NamedHook> hooks = call_hooks(m, intervene, fwd_hooks);
    std::vector<int32_t> generated;
    {
        HookScope scope;
        for (const auto& h : hooks) scope.add(m.model().add_hook(h.name_or_glob, h.fn));
        SharedPyObject callback(on_token);
        py::gil_scoped_release release;
        generated = headscope::generate(m.model(), prompt, o, [&](int32_t id) {
            if (!callback) return;
            py::gil_scoped_acquire gil;
            call_python([&] { return callback.get()(id); });
        });
    }
    const bool text_out = return_type == "str" || (return_type == "input" && py::isinstance<py::str>(x));
    if (text_out) {
        // The prompt as given (not re-decoded) followed by the new text, decoded in context (as the
        // CLI prints it: a SentencePiece piece's leading space survives).
        std::vector<int32_t> all = prompt;
        all.insert(all.end(), generated.begin(), generated.end());
        const std::string text = m.tokenizer().decode(all), before = m.tokenizer().decode(prompt);
        const std::string head = py::isinstance<py::str>(x) ? x.cast<std::string>() : before;
        return py::str(head + text.substr(std::min(before.size(), text.size())));
    }
    if (return_type != "tokens" && return_type != "input")
        throw UsageError("return_type: 'input' (like the input), 'str' or 'tokens', not '" + return_type + "'");
    std::vector<int64_t> all(prompt.begin(), prompt.end());
    all.insert(all.end(), generated.begin(), generated.end());
    return py::cast(at::tensor(all, at::kLong).unsqueeze(0));
}

std::string model_repr(const Model& m) {
    const ModelConfig& c = m.model().config();
    return fmt::format("<headscope.Model {} ({}, {} layers, d_model {}, {} heads / {} kv heads, {}) {}>", c.model_type,
                       m.loaded.path.empty() ? "borrowed" : to_string(m.loaded.format), c.n_layers, c.d_model,
                       c.n_heads, c.n_kv_heads, to_string(m.model().residency()), m.loaded.path);
}

void bind_config(py::module_& mod) {
    py::class_<ModelConfig> c(mod, "Config", "A model's shape and arithmetic (m.cfg); TransformerLens aliases included.");
    c.def_readonly("n_layers", &ModelConfig::n_layers)
        .def_readonly("d_model", &ModelConfig::d_model)
        .def_readonly("n_heads", &ModelConfig::n_heads)
        .def_readonly("n_kv_heads", &ModelConfig::n_kv_heads)
        .def_property_readonly("n_key_value_heads", [](const ModelConfig& c) { return c.n_kv_heads; })
        .def_readonly("d_head", &ModelConfig::d_head)
        .def_readonly("d_mlp", &ModelConfig::d_mlp)
        .def_readonly("d_vocab", &ModelConfig::d_vocab)
        .def_readonly("n_ctx", &ModelConfig::n_ctx)
        .def_readonly("model_type", &ModelConfig::model_type)
        .def_readonly("name", &ModelConfig::name)
        .def_property_readonly("architecture", [](const ModelConfig& c) { return std::string(to_string(c.architecture)); })
        .def_property_readonly("norm", [](const ModelConfig& c) { return std::string(to_string(c.norm)); })
        .def_property_readonly("normalization_type", [](const ModelConfig& c) { return c.norm == NormKind::rms ? "RMS" : "LN"; })
        .def_readonly("norm_eps", &ModelConfig::norm_eps)
        .def_property_readonly("positions", [](const ModelConfig& c) { return std::string(to_string(c.positions)); })
        .def_property_readonly("positional_embedding_type",
                               [](const ModelConfig& c) {
                                   return c.positions == PositionKind::rotary ? "rotary"
                                          : c.positions == PositionKind::learned ? "standard" : "none";
                               })
        .def_readonly("rope_theta", &ModelConfig::rope_theta)
        .def_readonly("rotary_dim", &ModelConfig::rotary_dim)
        .def_property_readonly("rotary_style", [](const ModelConfig& c) { return std::string(to_string(c.rotary_style)); })
        .def_property_readonly("norm_placement", [](const ModelConfig& c) { return std::string(to_string(c.norm_placement)); })
        .def_property_readonly("qk_norm", [](const ModelConfig& c) { return std::string(to_string(c.qk_norm)); })
        .def_readonly("parallel_residual", &ModelConfig::parallel_residual)
        .def_readonly("gated_mlp", &ModelConfig::gated_mlp)
        .def_property_readonly("act_fn", [](const ModelConfig& c) { return std::string(to_string(c.activation)); })
        .def_readonly("attn_only", &ModelConfig::attn_only)
        .def_readonly("tied_embeddings", &ModelConfig::tied_embeddings)
        .def_readonly("final_norm", &ModelConfig::final_norm)
        .def_readonly("attn_softcap", &ModelConfig::attn_softcap)
        .def_readonly("final_softcap", &ModelConfig::final_softcap)
        .def_readonly("sliding_window", &ModelConfig::sliding_window)
        .def_property_readonly("query_scale", &ModelConfig::query_scale)
        .def_property_readonly("group_size", &ModelConfig::group_size)
        .def_property_readonly("n_experts", [](const ModelConfig& c) { return c.moe.n_experts; })
        .def_property_readonly("experts_per_token", [](const ModelConfig& c) { return c.moe.top_k; })
        .def_readonly("bos_token_id", &ModelConfig::bos_token_id)
        .def_readonly("eos_token_id", &ModelConfig::eos_token_id)
        .def("to_dict",
             [](py::object self) {
                 py::dict d;
                 for (py::handle name : self.attr("__class__").attr("__dict__").attr("keys")()) {
                     const std::string n = name.cast<std::string>();
                     if (n.rfind("_", 0) == 0 || n == "to_dict") continue;
                     d[name] = self.attr(name);
                 }
                 return d;
             })
        .def("__repr__", [](const ModelConfig& c) {
            return fmt::format("Config({}: n_layers={}, d_model={}, n_heads={}, n_kv_heads={}, d_head={}, d_mlp={}, "
                               "d_vocab={}, n_ctx={})",
                               c.model_type, c.n_layers, c.d_model, c.n_heads, c.n_kv_heads, c.d_head, c.d_mlp,
                               c.d_vocab, c.n_ctx);
        });
}

void bind_tokenizer(py::module_& mod) {
    py::class_<TokenizerObject>(mod, "Tokenizer", "The model's tokenizer (exactly the original's).")
        .def(
            "encode",
            [](const TokenizerObject& t, const std::string& text, bool add_bos) {
                return t.tokenizer->encode(text, add_bos).ids;
            },
            py::arg("text"), py::arg("add_bos") = false, "text -> ids (BOS only when add_bos)")
        .def(
            "encode_with_offsets",
            [](const TokenizerObject& t, const std::string& text, bool add_bos) {
                Encoding e = t.tokenizer->encode(text, add_bos);
                return py::make_tuple(e.ids, e.offsets);
            },
            py::arg("text"), py::arg("add_bos") = false, "text -> (ids, [(begin, end) byte offsets])")
        .def("decode", [](const TokenizerObject& t, py::handle ids) { return t.tokenizer->decode(ids_of(ids)); },
             py::arg("ids"))
        .def("token_text", [](const TokenizerObject& t, int32_t id) { return t.tokenizer->token_text(id); })
        .def("piece", [](const TokenizerObject& t, int32_t id) { return t.tokenizer->piece(id); })
        .def_property_readonly("vocab_size", [](const TokenizerObject& t) { return t.tokenizer->vocab_size(); })
        .def_property_readonly("bos_token_id", [](const TokenizerObject& t) { return t.tokenizer->bos_id(); })
        .def_property_readonly("eos_token_id", [](const TokenizerObject& t) { return t.tokenizer->eos_id(); })
        .def("__len__", [](const TokenizerObject& t) { return t.tokenizer->vocab_size(); });
}

}  // namespace

void bind_model(py::module_& mod) {
    bind_config(mod);
    bind_tokenizer(mod);
    py::class_<Model> c(mod, "Model", "A loaded model (headscope.load).");
    c.def(
         "__call__",
         [](Model& m, py::handle x, py::handle intervene, py::handle fwd_hooks, bool prepend_bos,
            const std::string& return_type) {
             at::Tensor tokens = to_tokens(m, x, prepend_bos);
             at::Tensor logits = forward_with(m, tokens, call_hooks(m, intervene, fwd_hooks));
             return shaped_output(logits, tokens, return_type);
         },
         py::arg("input"), py::arg("intervene") = py::none(), py::arg("fwd_hooks") = py::none(),
         py::arg("prepend_bos") = true, py::arg("return_type") = "logits",
         "logits [batch, pos, d_vocab] of a text, texts of equal token counts, or tokens")
        .def(
            "run_with_cache",
            [](Model& m, py::handle x, py::handle filter, py::handle intervene, py::handle fwd_hooks, bool prepend_bos) {
                return run_with_cache(m, x, filter, intervene, fwd_hooks, prepend_bos);
            },
            py::arg("input"), py::arg("names_filter") = py::none(), py::arg("intervene") = py::none(),
            py::arg("fwd_hooks") = py::none(), py::arg("prepend_bos") = true,
            "(logits, cache): activations whose names match names_filter (a name, glob, list, or function name -> bool)")
        .def(
            "run_with_hooks",
            [](Model& m, py::handle x, py::handle fwd_hooks, py::handle intervene, bool prepend_bos,
               const std::string& return_type) {
                at::Tensor tokens = to_tokens(m, x, prepend_bos);
                at::Tensor logits = forward_with(m, tokens, call_hooks(m, intervene, fwd_hooks));
                return shaped_output(logits, tokens, return_type);
            },
            py::arg("input"), py::arg("fwd_hooks") = py::list(), py::arg("intervene") = py::none(),
            py::arg("prepend_bos") = true, py::arg("return_type") = "logits",
            "a forward with hooks [(name or glob or function, fn(tensor, hook) -> None | tensor)] for this call only")
        .def("reset_hooks", [](Model& m) { m.model().remove_all_hooks(); }, "removes every hook of the model")
        .def("hook_points",
             [](const Model& m) {
                 std::vector<std::string> names;
                 for (const HookPoint& p : m.model().hook_points()) names.push_back(p.name);
                 return names;
             })
        .def("to_tokens", [](const Model& m, py::handle x, bool bos) { return to_tokens(m, x, bos); }, py::arg("input"),
             py::arg("prepend_bos") = true, "[batch, pos] int64 tokens")
        .def(
            "to_str_tokens",
            [](const Model& m, py::handle x, bool bos) {
                at::Tensor t = py::isinstance<py::str>(x) ? to_tokens(m, x, bos) : to_tokens(m, x, false);
                if (t.size(0) != 1) throw UsageError("to_str_tokens: one sequence at a time");
                std::vector<std::string> out;
                for (int32_t id : ids_of(py::cast(t))) out.push_back(token_label_text(m.tokenizer(), id));
                return out;
            },
            py::arg("input"), py::arg("prepend_bos") = true, "each token's text (BOS as its piece)")
        .def("to_string", [](const Model& m, py::handle ids) { return m.tokenizer().decode(ids_of(ids)); },
             py::arg("tokens"))
        .def(
            "to_single_token",
            [](const Model& m, const std::string& text) {
                std::vector<int32_t> ids = m.tokenizer().encode(text, false).ids;
                if (ids.size() != 1)
                    throw UsageError(fmt::format("'{}' is {} tokens, not one", text, ids.size()));
                return ids.front();
            },
            py::arg("text"))
        .def_property_readonly("tokenizer", [](const Model& m) { return TokenizerObject{m.loaded.tokenizer}; })
        .def_property_readonly("cfg", [](const Model& m) { return m.model().config(); })
        .def_property_readonly("path", [](const Model& m) { return m.loaded.path; })
        .def_property_readonly("format", [](const Model& m) { return std::string(to_string(m.loaded.format)); })
        .def_property_readonly("dtype",
                               [](const Model& m) {
                                   return py::reinterpret_borrow<py::object>(
                                       reinterpret_cast<PyObject*>(torch::getTHPDtype(m.model().options().dtype)));
                               })
        .def_property_readonly("device", [](const Model& m) { return m.model().options().device.str(); })
        .def_property_readonly("residency", [](const Model& m) { return std::string(to_string(m.model().residency())); })
        .def_property_readonly("weight_policy", [](const Model& m) { return m.model().weight_policy(); })
        .def_property_readonly("matmul_path", [](const Model& m) { return m.model().matmul_path(); })
        .def("parameter_count", [](const Model& m) { return m.model().parameter_count(); })
        .def("weight", &weight, py::arg("name"),
             "a weight as the model holds it (the same storage): 'blocks.0.attn.W_Q' [n_heads, d_model, d_head] ...")
        .def("weights", [](const Model& m) { return weights_dict(m.model().weights()); },
             "every weight the model holds, by name (the same storage)")
        .def(
            "layer_weights",
            [](const Model& m, int layer) {
                LayerWeights lw;
                {
                    py::gil_scoped_release release;
                    lw = m.model().layer_weights(layer);
                }
                py::dict out;
                for (const LayerTensor& t : layer_tensors())
                    if ((lw.*t.member).defined()) out[py::str(t.name)] = lw.*t.member;
                return out;
            },
            py::arg("layer"), "layer L's weights in the compute dtype (converted copies when streamed)")
        .def(
            "apply_weight_edits",
            [](Model& m) {
                py::gil_scoped_release release;
                m.model().set_weights(m.model().weights());
            },
            "after editing weight tensors in place: validates them and makes the next forward use them")
        .def("generate", &generate, py::arg("input") = "", py::arg("max_new_tokens") = 64, py::arg("temperature") = 0.0,
             py::arg("seed") = 0, py::arg("stop_at_eos") = true, py::arg("intervene") = py::none(),
             py::arg("fwd_hooks") = py::none(), py::arg("prepend_bos") = true, py::arg("on_token") = py::none(),
             py::arg("return_type") = "input",
             "greedy (temperature 0) or sampled continuation; a text in gives the text out (prompt + new text)")
        .def("__repr__", &model_repr);
}

}  // namespace headscope::python
