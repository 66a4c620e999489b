// The headscope Python package (_core extension): what its translation units share. Tensors cross
// with torch's own pybind11 caster (torch/csrc/utils/pybind.h): an at::Tensor is returned as the
// torch.Tensor that wraps it, with no copy, and a torch.Tensor argument is its at::Tensor.
// Core calls run with the GIL released; Python hooks and callbacks take it again.
#pragma once

#include <ATen/ATen.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/utils/pybind.h>

#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_store.hpp"

namespace headscope::python {

namespace py = pybind11;

// A Python object held by C++ code that may be copied or destroyed without the GIL (hook
// functions inside the core, analysis factories in a registry): copies share one reference; the
// last one drops it under the GIL, or leaks it once the interpreter is gone.
class SharedPyObject {
public:
    SharedPyObject() = default;
    explicit SharedPyObject(py::object object);
    const py::object& get() const { return *object_; }
    explicit operator bool() const { return object_ && *object_ && !object_->is_none(); }

private:
    std::shared_ptr<py::object> object_;
};

// Ctrl+C seen while the core was working (inside a Python hook or callback, or at a cancellation
// check): it stops the core's work like any Cancelled and reaches Python as the KeyboardInterrupt.
class Interrupted : public Cancelled {
public:
    explicit Interrupted(py::error_already_set interrupt)
        : interrupt_(std::make_shared<py::error_already_set>(std::move(interrupt))) {}
    void restore() const { interrupt_->restore(); }

private:
    std::shared_ptr<py::error_already_set> interrupt_;
};

// Calls Python from core work: a KeyboardInterrupt raised there becomes Interrupted.
template <class F>
decltype(auto) call_python(F&& f) {
    try {
        return f();
    } catch (py::error_already_set& e) {
        if (e.matches(PyExc_KeyboardInterrupt)) throw Interrupted(std::move(e));
        throw;
    }
}

// The model as Python holds it. An analysis context's model is borrowed (the host owns it).
struct Model {
    LoadedModel loaded;
    bool borrowed = false;
    std::shared_ptr<Provenance> provenance_base;  // the file's SHA-256 is computed once, when first needed

    HookedTransformer& model() const { return *loaded.model; }
    const Tokenizer& tokenizer() const { return *loaded.tokenizer; }
    // Provenance of results computed on this model for these prompts.
    Provenance provenance(const std::vector<std::string>& prompts, const std::string& source,
                          const std::string& command_line);
};

// A results item list with the provenance of the run that made it (none for a Python analysis's
// own Result before the host fills it in).
struct ResultObject {
    Result result;
    std::shared_ptr<const Provenance> provenance;
};

// --- conversions (inputs.cpp) ---
// Python input -> [batch, pos] int64 tokens on the model's device: a text, a list of texts of
// equal token counts, a list of ids, or an integer tensor [pos] / [batch, pos].
at::Tensor to_tokens(const Model& m, py::handle x, bool prepend_bos);
// "float32", "bf16", torch.float32 ... -> the scalar type.
at::ScalarType parse_dtype(py::handle dtype);
// --intervene specs (a string or a list of strings) -> hooks for this model ([] for None).
std::vector<NamedHook> intervention_hooks(const HookedTransformer& model, py::handle specs);
// fn(tensor, hook) -> None | tensor as a core hook; a replacement of another shape raises UsageError
// naming the function, the hook point and both shapes.
HookFn python_hook(py::object fn);
// fwd_hooks [(name or glob or callable(name) -> bool, fn), ...] -> named hooks.
std::vector<NamedHook> forward_hooks(const HookedTransformer& model, py::handle fwd_hooks);
// A list of heads: "all"/None (every head), or entries "L1H4" / "1.4" / (1, 4).
std::vector<HeadRef> to_heads(const ModelConfig& config, py::handle heads);
// Strings from a str or an iterable of str.
std::vector<std::string> to_strings(py::handle value, const char* what);
// Prompt examples from a .jsonl path or a list of texts / dicts; `source` names where they came from.
std::vector<PromptExample> to_prompts(py::handle prompts, py::handle prompt, std::string* source);
// A parameter value as the text ParamValues parses: True -> "true", [(1, 4), "L2H0"] -> "L1H4,L2H0".
std::string parameter_text(py::handle value);

// Progress and cancellation for work started from Python: a callback(fraction, message) or None;
// cancelled() turns a pending Ctrl+C (KeyboardInterrupt) into a cancellation of the work, and
// rethrow_interrupt() raises that KeyboardInterrupt once the work has stopped.
class PythonProgress : public Progress {
public:
    explicit PythonProgress(py::object callback = py::none());
    void update(double fraction, const std::string& message) override;
    bool cancelled() const override;
    // After the work stopped with Cancelled: throws Interrupted (the KeyboardInterrupt) when Ctrl+C
    // caused it, else the Cancelled itself.
    [[noreturn]] void rethrow_cancelled(const Cancelled& e) const;
    // For loops that check between steps (HeadSweep): throws Interrupted when cancelled().
    void check() const;

private:
    py::object callback_;
    mutable std::shared_ptr<Interrupted> interrupt_;
};

// The registry Python sees: the built-ins, the plugin search path and extra plugin folders, and
// classes registered with headscope.register_analysis (analyses.cpp).
AnalysisRegistry& python_registry(py::handle plugin_dirs = py::none());
void add_registered_class(py::object cls);  // adds it to python_registry() and keeps it for rebuilds

// A Python analysis class as a core Analysis (python_analysis.cpp); `origin` is its file.
AnalysisFactory python_analysis_factory(py::object cls, const std::string& origin);

// The Python object of a core Result.
py::object result_object(Result result, std::shared_ptr<const Provenance> provenance);

// Binding entry points, one per translation unit.
void bind_errors(py::module_& m);
void bind_model(py::module_& m);
void bind_cache_and_hooks(py::module_& m);
void bind_results(py::module_& m);
void bind_analyses(py::module_& m);
void bind_python_analyses(py::module_& m);
void bind_sweep(py::module_& m);

// Python exception types (module.cpp).
py::handle error_type(const char* name);

}  // namespace headscope::python
