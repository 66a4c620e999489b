// Conversions from Python values to core inputs, Python hooks as core hooks, and progress /
// Ctrl+C handling for work started from Python.
#include <torch/csrc/Dtype.h>
#include <torch/csrc/autograd/python_variable.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bindings.hpp"
#include "headscope/formatting.hpp"
#include "headscope/interventions.hpp"
#include "headscope/session.hpp"
#include "headscope/sdk/head_ref.hpp"
#include "headscope/sdk/prompts.hpp"

namespace headscope::python {

SharedPyObject::SharedPyObject(py::object object)
    : object_(new py::object(std::move(object)), [](py::object* o) {
          if (Py_IsInitialized() && !_Py_IsFinalizing()) {
              py::gil_scoped_acquire gil;
              delete o;
          } else {
              o->release();  // the interpreter is gone: nothing to drop the reference into
              delete o;
          }
      }) {}

Provenance Model::provenance(const std::vector<std::string>& prompts, const std::string& source,
                             const std::string& command_line) {
    if (!provenance_base) {
        if (loaded.path.empty()) {
            // A borrowed model (an analysis context's): the host writes the provenance.
            provenance_base = std::make_shared<Provenance>();
        } else {
            provenance_base = std::make_shared<Provenance>(session_provenance(loaded, {}, "", ""));
        }
    }
    Provenance p = *provenance_base;
    p.prompts = prompts;
    p.prompt_source = source;
    p.command_line = command_line;
    p.created_utc = utc_timestamp();
    return p;
}

namespace {

std::vector<int64_t> encode(const Model& m, const std::string& text, bool prepend_bos) {
    const bool bos = prepend_bos && m.tokenizer().bos_id() >= 0;
    std::vector<int32_t> ids = m.tokenizer().encode(text, bos).ids;
    if (ids.empty()) {
        if (m.tokenizer().bos_id() < 0)
            throw UsageError("the text is empty and the tokenizer has no BOS token to start from");
        ids.push_back(m.tokenizer().bos_id());
    }
    return std::vector<int64_t>(ids.begin(), ids.end());
}

at::Tensor from_rows(const std::vector<std::vector<int64_t>>& rows, const char* what) {
    for (const auto& r : rows)
        if (r.size() != rows.front().size()) {
            std::vector<size_t> counts;
            for (const auto& q : rows) counts.push_back(q.size());
            throw UsageError(fmt::format("{} tokenize to different lengths ({}): headscope runs a batch without "
                                         "padding, so pass texts of equal token counts or one at a time",
                                         what, fmt::join(counts, ", ")));
        }
    const int64_t B = static_cast<int64_t>(rows.size()), T = static_cast<int64_t>(rows.front().size());
    at::Tensor out = at::empty({B, T}, at::kLong);
    for (int64_t b = 0; b < B; ++b) std::copy(rows[b].begin(), rows[b].end(), out[b].data_ptr<int64_t>());
    return out;
}

}  // namespace

at::Tensor to_tokens(const Model& m, py::handle x, bool prepend_bos) {
    at::Tensor tokens;
    if (py::isinstance<py::str>(x)) {
        tokens = from_rows({encode(m, x.cast<std::string>(), prepend_bos)}, "the texts");
    } else if (THPVariable_Check(x.ptr())) {
        tokens = THPVariable_Unpack(x.ptr());
        if (at::isFloatingType(tokens.scalar_type()) || at::isComplexType(tokens.scalar_type()) ||
            tokens.scalar_type() == at::kBool)
            throw UsageError(fmt::format("tokens must be an integer tensor, not {}", c10::toString(tokens.scalar_type())));
        if (tokens.dim() == 1) tokens = tokens.unsqueeze(0);
        if (tokens.dim() != 2)
            throw UsageError(fmt::format("tokens must be [pos] or [batch, pos], not a tensor of shape {}",
                                         c10::str(tokens.sizes())));
        tokens = tokens.to(at::kLong);
    } else if (py::isinstance<py::sequence>(x) && !py::isinstance<py::bytes>(x)) {
        py::sequence seq = py::reinterpret_borrow<py::sequence>(x);
        if (seq.size() == 0) throw UsageError("no input: pass a text, a list of texts or token ids");
        if (py::isinstance<py::str>(seq[0])) {
            std::vector<std::vector<int64_t>> rows;
            for (py::handle item : seq) {
                if (!py::isinstance<py::str>(item)) throw UsageError("a list of texts must hold only str");
                rows.push_back(encode(m, item.cast<std::string>(), prepend_bos));
            }
            tokens = from_rows(rows, "the texts");
        } else if (py::isinstance<py::sequence>(seq[0])) {
            std::vector<std::vector<int64_t>> rows;
            for (py::handle item : seq) rows.push_back(item.cast<std::vector<int64_t>>());
            tokens = from_rows(rows, "the token lists");
        } else {
            tokens = from_rows({seq.cast<std::vector<int64_t>>()}, "the token lists");
        }
    } else {
        throw UsageError(fmt::format("cannot run on a {}: pass a text, a list of texts, token ids or an integer tensor",
                                     py::str(py::type::of(x).attr("__name__")).cast<std::string>()));
    }
    if (tokens.size(1) == 0) throw UsageError("the input has no tokens");
    return tokens.to(m.model().options().device);
}

at::ScalarType parse_dtype(py::handle dtype) {
    if (dtype.is_none()) return at::kFloat;
    if (THPDtype_Check(dtype.ptr())) return reinterpret_cast<THPDtype*>(dtype.ptr())->scalar_type;
    const std::string s = py::str(dtype).cast<std::string>();
    if (s == "float32" || s == "float" || s == "fp32" || s == "f32") return at::kFloat;
    if (s == "float64" || s == "double" || s == "fp64" || s == "f64") return at::kDouble;
    if (s == "float16" || s == "half" || s == "fp16" || s == "f16") return at::kHalf;
    if (s == "bfloat16" || s == "bf16") return at::kBFloat16;
    throw UsageError("dtype: unknown dtype '" + s + "' (use float32, float64, float16 or bfloat16)");
}

std::vector<std::string> to_strings(py::handle value, const char* what) {
    // str and os.PathLike (pathlib.Path) alike.
    auto text = [&](py::handle item) -> std::string {
        if (py::isinstance<py::str>(item)) return item.cast<std::string>();
        if (py::hasattr(item, "__fspath__")) return py::module_::import("os").attr("fspath")(item).cast<std::string>();
        throw UsageError(std::string(what) + ": expected a str or a list of str");
    };
    if (value.is_none()) return {};
    if (py::isinstance<py::str>(value) || py::hasattr(value, "__fspath__")) return {text(value)};
    std::vector<std::string> out;
    for (py::handle item : value) out.push_back(text(item));
    return out;
}

std::vector<NamedHook> intervention_hooks(const HookedTransformer& model, py::handle specs) {
    const std::vector<std::string> list = to_strings(specs, "intervene");
    if (list.empty()) return {};
    return edit_hooks(parse_head_edits(list), model);
}

namespace {

std::string callable_name(const py::handle& fn) {
    for (const char* attr : {"__qualname__", "__name__"})
        if (py::hasattr(fn, attr)) return py::str(fn.attr(attr)).cast<std::string>();
    return py::str(py::type::of(fn).attr("__name__")).cast<std::string>();
}

// One hook function: the HookPoint objects it is called with are made once per point.
struct PythonHook {
    SharedPyObject fn;
    SharedPyObject points;  // dict: id(core HookPoint) -> headscope.HookPoint
    std::string label;

    std::optional<at::Tensor> operator()(const at::Tensor& activation, const HookPoint& point) const {
        py::gil_scoped_acquire gil;
        py::dict cache = py::reinterpret_borrow<py::dict>(points.get());
        py::int_ key(reinterpret_cast<uintptr_t>(&point));
        py::object hook_point;
        if (PyObject* found = PyDict_GetItem(cache.ptr(), key.ptr())) {
            hook_point = py::reinterpret_borrow<py::object>(found);
        } else {
            hook_point = py::cast(point);
            cache[key] = hook_point;
        }
        py::object result = call_python([&] { return fn.get()(activation, hook_point); });
        if (result.is_none()) return std::nullopt;
        if (!THPVariable_Check(result.ptr()))
            throw UsageError(fmt::format("hook {} at {} returned a {}: return None or a tensor of shape {}", label,
                                         point.name, py::str(py::type::of(result).attr("__name__")).cast<std::string>(),
                                         c10::str(activation.sizes())));
        at::Tensor replacement = THPVariable_Unpack(result.ptr());
        if (!replacement.sizes().equals(activation.sizes()))
            throw UsageError(fmt::format("hook {} at {} returned shape {} but the activation has shape {}", label,
                                         point.name, c10::str(replacement.sizes()), c10::str(activation.sizes())));
        return replacement;
    }
};

}  // namespace

HookFn python_hook(py::object fn) {
    if (!PyCallable_Check(fn.ptr())) throw UsageError("a hook must be a function fn(tensor, hook)");
    std::string label = callable_name(fn);
    return PythonHook{SharedPyObject(std::move(fn)), SharedPyObject(py::dict()), std::move(label)};
}

std::vector<NamedHook> forward_hooks(const HookedTransformer& model, py::handle fwd_hooks) {
    std::vector<NamedHook> out;
    if (fwd_hooks.is_none()) return out;
    for (py::handle entry : fwd_hooks) {
        py::tuple pair;
        try {
            pair = entry.cast<py::tuple>();
        } catch (const py::cast_error&) {
        }
        if (pair.size() != 2) throw UsageError("fwd_hooks: each entry is a (name, fn) pair");
        HookFn fn = python_hook(pair[1].cast<py::object>());
        if (py::isinstance<py::str>(pair[0])) {
            std::string name = pair[0].cast<std::string>();
            if (model.resolve_hooks(name).empty())
                throw UsageError("fwd_hooks: no hook point matches '" + name +
                                 "' (names look like 'blocks.0.attn.hook_z'; see m.hook_points())");
            out.push_back(NamedHook{std::move(name), fn});
        } else if (PyCallable_Check(pair[0].ptr())) {
            // TransformerLens' name filter: a function of the hook name.
            bool any = false;
            for (const HookPoint& p : model.hook_points())
                if (pair[0](p.name).cast<bool>()) {
                    out.push_back(NamedHook{p.name, fn});
                    any = true;
                }
            if (!any) throw UsageError("fwd_hooks: the name filter " + callable_name(pair[0]) + " matches no hook point");
        } else {
            throw UsageError("fwd_hooks: a hook's name is a str (a name or glob) or a function name -> bool");
        }
    }
    return out;
}

std::vector<HeadRef> to_heads(const ModelConfig& config, py::handle heads) {
    std::vector<HeadRef> out;
    if (heads.is_none() || (py::isinstance<py::str>(heads) && heads.cast<std::string>() == "all")) {
        for (int l = 0; l < config.n_layers; ++l)
            for (int h = 0; h < config.n_heads; ++h) out.push_back(HeadRef{l, h});
        return out;
    }
    if (py::isinstance<py::str>(heads)) return parse_heads(heads.cast<std::string>());
    for (py::handle item : heads) {
        if (py::isinstance<py::str>(item)) {
            out.push_back(parse_head(item.cast<std::string>()));
        } else {
            auto pair = item.cast<std::pair<int, int>>();
            out.push_back(HeadRef{pair.first, pair.second});
        }
    }
    for (const HeadRef& h : out)
        if (h.layer < 0 || h.layer >= config.n_layers || h.head < 0 || h.head >= config.n_heads)
            throw UsageError(fmt::format("head {} is outside the model ({} layers of {} heads)", head_label(h),
                                         config.n_layers, config.n_heads));
    return out;
}

std::vector<PromptExample> to_prompts(py::handle prompts, py::handle prompt, std::string* source) {
    std::vector<PromptExample> out;
    std::vector<std::string> sources;
    if (!prompt.is_none()) {
        PromptExample e;
        e.prompt = prompt.cast<std::string>();
        out.push_back(e);
        sources.push_back("prompt=");
    }
    if (!prompts.is_none()) {
        py::module_ os = py::module_::import("os");
        if (py::isinstance<py::str>(prompts) || py::hasattr(prompts, "__fspath__")) {
            const std::string path = os.attr("fspath")(prompts).cast<std::string>();
            if (!os.attr("path").attr("isfile")(path).cast<bool>())
                throw UsageError("prompts='" + path + "': no such prompt file (JSONL); for one text pass prompt='...'");
            auto more = load_prompt_set(path);
            out.insert(out.end(), more.begin(), more.end());
            sources.push_back(path);
        } else {
            for (py::handle item : prompts) {
                PromptExample e;
                if (py::isinstance<py::str>(item)) {
                    e.prompt = item.cast<std::string>();
                } else if (py::isinstance<py::dict>(item)) {
                    py::dict d = py::reinterpret_borrow<py::dict>(item);
                    if (!d.contains("prompt")) throw UsageError("prompts: each dict needs a 'prompt'");
                    auto field = [&](const char* k) { return d.contains(k) ? d[k].cast<std::string>() : std::string(); };
                    e.task = field("task");
                    e.prompt = field("prompt");
                    e.answer = field("answer");
                    e.alternative = field("alternative");
                    e.corrupted_prompt = field("corrupted_prompt");
                    if (d.contains("context")) {
                        e.context = field("context");
                        e.context_offset = 0;
                        e.prompt = e.context + e.prompt;
                    }
                } else {
                    throw UsageError("prompts: a list of str or of dicts with 'prompt' (and 'answer', 'alternative', "
                                     "'corrupted_prompt', 'task', 'context')");
                }
                out.push_back(std::move(e));
            }
            sources.push_back("python");
        }
    }
    if (source) *source = fmt::format("{}", fmt::join(sources, ", "));
    return out;
}

std::string parameter_text(py::handle value) {
    if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "true" : "false";
    if (py::isinstance<py::str>(value)) return value.cast<std::string>();
    if (py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value)) return py::repr(value).cast<std::string>();
    if (py::isinstance<py::sequence>(value)) {
        std::vector<std::string> parts;
        for (py::handle item : value) {
            if (py::isinstance<py::tuple>(item) && py::len(item) == 2) {
                auto pair = item.cast<std::pair<int, int>>();
                parts.push_back(head_label(pair.first, pair.second));
            } else {
                parts.push_back(parameter_text(item));
            }
        }
        return fmt::format("{}", fmt::join(parts, ","));
    }
    return py::str(value).cast<std::string>();
}

PythonProgress::PythonProgress(py::object callback) : callback_(std::move(callback)) {}

void PythonProgress::update(double fraction, const std::string& message) {
    if (callback_.is_none()) return;
    py::gil_scoped_acquire gil;
    call_python([&] { return callback_(fraction, message); });
}

bool PythonProgress::cancelled() const {
    if (interrupt_) return true;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) interrupt_ = std::make_shared<Interrupted>(py::error_already_set());
    return interrupt_ != nullptr;
}

void PythonProgress::rethrow_cancelled(const Cancelled& e) const {
    if (const auto* interrupted = dynamic_cast<const Interrupted*>(&e)) throw *interrupted;
    if (interrupt_) throw *interrupt_;
    throw e;
}

void PythonProgress::check() const {
    if (cancelled()) throw *interrupt_;
}

}  // namespace headscope::python
