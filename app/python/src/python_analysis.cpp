// Analyses written in Python: a headscope.Analysis subclass as a core Analysis (id, title, version,
// parameters with defaults, the hooks it needs, run(ctx) -> items), the AnalysisContext it runs
// with, and the registration of a plugin file's classes into a host's registry (called by
// headscope._plugin_host for the bridge library). A Python exception fails that analysis alone,
// with the file, line and traceback in its error.
#include <fmt/format.h>

#include <regex>

#include "bindings.hpp"
#include "headscope/sdk/plugin_loader.hpp"

namespace headscope::python {

namespace {

std::string text_attr(const py::object& cls, const char* name, const std::string& fallback = "") {
    if (!py::hasattr(cls, name) || cls.attr(name).is_none()) return fallback;
    return py::str(cls.attr(name)).cast<std::string>();
}

ParamSpec param_spec(py::handle p) {
    ParamSpec s;
    s.name = p.attr("name").cast<std::string>();
    const std::string type = p.attr("type").cast<std::string>();
    if (type == "integer") s.type = ParamType::integer;
    else if (type == "real") s.type = ParamType::real;
    else if (type == "boolean") s.type = ParamType::boolean;
    else if (type == "text") s.type = ParamType::text;
    else if (type == "choice") s.type = ParamType::choice;
    else if (type == "heads") s.type = ParamType::heads;
    else throw UsageError("parameter " + s.name + ": unknown type '" + type + "'");
    s.default_value = parameter_text(p.attr("default"));
    s.help = text_attr(py::reinterpret_borrow<py::object>(p), "help");
    if (!p.attr("choices").is_none()) s.choices = p.attr("choices").cast<std::vector<std::string>>();
    if (!p.attr("min").is_none()) s.min = p.attr("min").cast<double>();
    if (!p.attr("max").is_none()) s.max = p.attr("max").cast<double>();
    return s;
}

// ctx.params: typed values (int, float, bool, str, [(layer, head), ...]).
py::dict typed_params(const ParamValues& values, const std::vector<ParamSpec>& specs) {
    py::dict out;
    for (const ParamSpec& s : specs) {
        switch (s.type) {
            case ParamType::integer: out[py::str(s.name)] = values.get_int(s.name); break;
            case ParamType::real: out[py::str(s.name)] = values.get_real(s.name); break;
            case ParamType::boolean: out[py::str(s.name)] = values.get_bool(s.name); break;
            case ParamType::heads: {
                py::list heads;
                for (const HeadRef& h : values.get_heads(s.name)) heads.append(py::make_tuple(h.layer, h.head));
                out[py::str(s.name)] = heads;
                break;
            }
            default: out[py::str(s.name)] = values.get_text(s.name);
        }
    }
    return out;
}

// What run(ctx) gets. Valid only while run() runs (the host owns the model and the prompts).
struct ContextObject {
    AnalysisContext* context = nullptr;
    std::shared_ptr<Model> model;
    py::dict params;
    AnalysisContext& get() const {
        if (!context) throw UsageError("this analysis context has ended (keep no ctx beyond run())");
        return *context;
    }
};

py::dict prompt_dict(const TokenizedPrompt& p) {
    py::dict d;
    d["task"] = p.example.task;
    d["prompt"] = p.example.prompt;
    d["answer"] = p.example.answer;
    d["alternative"] = p.example.alternative;
    d["corrupted_prompt"] = p.example.corrupted_prompt;
    d["context"] = p.example.context;
    d["ids"] = p.ids;
    d["token_texts"] = p.token_texts;
    d["answer_id"] = p.answer_id;
    d["alternative_id"] = p.alternative_id;
    d["corrupted_ids"] = p.corrupted_ids;
    return d;
}

const std::regex& key_pattern() {
    static const std::regex re("[A-Za-z0-9_]+");
    return re;
}

// run()'s return value: a headscope.Result, a list of items, or one item.
Result to_result(py::handle value, const std::string& id) {
    Result r;
    if (py::isinstance<ResultObject>(value)) {
        r = value.cast<ResultObject>().result;
    } else if (value.is_none()) {
        throw UsageError("run() returned None: return a list of items (headscope.HeadGrid, ...) or a headscope.Result");
    } else if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
        r.items = value.cast<std::vector<ResultItem>>();
    } else {
        r.items.push_back(value.cast<ResultItem>());
    }
    std::vector<std::string> seen;
    for (const auto& item : r.items) {
        const std::string& key = header_of(item).key;
        if (!std::regex_match(key, key_pattern()))
            throw UsageError(fmt::format("{}: item key '{}' must be letters, digits and _", id, key));
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
            throw UsageError(fmt::format("{}: two items have the key '{}'", id, key));
        seen.push_back(key);
    }
    return r;
}

class PythonAnalysis : public Analysis {
public:
    // Reads the class's declarations (with the GIL).
    PythonAnalysis(SharedPyObject cls, std::string origin) : cls_(std::move(cls)), origin_(std::move(origin)) {
        const py::object& c = cls_.get();
        id_ = text_attr(c, "id");
        if (id_.empty()) throw UsageError(text_attr(c, "__qualname__") + " has no id");
        title_ = text_attr(c, "title", id_);
        version_ = text_attr(c, "version", "0");
        description_ = text_attr(c, "description", "");
        needs_prompts_ = !py::hasattr(c, "needs_prompts") || c.attr("needs_prompts").cast<bool>();
        if (py::hasattr(c, "parameters") && !c.attr("parameters").is_none())
            for (py::handle p : c.attr("parameters")) params_.push_back(param_spec(p));
        py::object hooks = py::hasattr(c, "hooks") ? c.attr("hooks") : py::object(py::list());
        hooks_method_ = PyCallable_Check(hooks.ptr()) != 0;
        if (!hooks_method_) static_hooks_ = to_strings(hooks, "hooks");
        if (!py::hasattr(c, "run") || !PyCallable_Check(c.attr("run").ptr()))
            throw UsageError(id_ + " has no run(ctx) method");
    }

    std::string id() const override { return id_; }
    std::string title() const override { return title_; }
    std::string version() const override { return version_; }
    std::string description() const override { return description_; }
    std::vector<ParamSpec> parameters() const override { return params_; }
    bool needs_prompts() const override { return needs_prompts_; }

    std::vector<std::string> hooks(const ModelConfig& config, const ParamValues& params) const override {
        if (!hooks_method_) return static_hooks_;
        py::gil_scoped_acquire gil;
        try {
            return to_strings(cls_.get()().attr("hooks")(config, typed_params(params, params_)), "hooks()");
        } catch (py::error_already_set& e) {
            throw_python_error(e);
        }
    }

    Result run(AnalysisContext& context) override {
        py::gil_scoped_acquire gil;
        auto model = std::make_shared<Model>();
        model->borrowed = true;
        model->loaded.model = std::shared_ptr<HookedTransformer>(std::shared_ptr<void>(), &context.model);
        model->loaded.tokenizer = std::shared_ptr<const Tokenizer>(std::shared_ptr<void>(), &context.tokenizer);
        ContextObject ctx{&context, model, typed_params(context.params, params_)};
        py::object handle = py::cast(ctx);
        // What run() printed reaches the terminal now (an embedding host never finalizes Python).
        struct Flush {
            ~Flush() {
                PyObject *type, *value, *trace;
                PyErr_Fetch(&type, &value, &trace);
                for (const char* stream : {"stdout", "stderr"})
                    if (PyObject* s = PySys_GetObject(stream)) Py_XDECREF(PyObject_CallMethod(s, "flush", nullptr));
                PyErr_Clear();
                PyErr_Restore(type, value, trace);
            }
        } flush;
        try {
            py::object value = cls_.get()().attr("run")(handle);
            handle.cast<ContextObject&>().context = nullptr;
            return to_result(value, id_);
        } catch (py::error_already_set& e) {
            handle.cast<ContextObject&>().context = nullptr;
            throw_python_error(e);
        }
    }

private:
    // A Python exception as the analysis's error: Ctrl+C and headscope.Cancelled cancel it; anything
    // else becomes an Error with the file, the line and the traceback.
    [[noreturn]] void throw_python_error(py::error_already_set& e) const {
        if (e.matches(PyExc_KeyboardInterrupt)) throw Interrupted(std::move(e));
        if (e.matches(error_type("Cancelled"))) throw Cancelled();
        py::object describe = py::module_::import("headscope._plugin_host").attr("describe_error");
        throw Error(describe(e.value(), origin_, e.trace()).cast<std::string>());
    }

    SharedPyObject cls_;
    std::string origin_, id_, title_, version_, description_;
    std::vector<ParamSpec> params_;
    std::vector<std::string> static_hooks_;
    bool hooks_method_ = false;
    bool needs_prompts_ = true;
};

// The origin a plugin's analyses are listed with: the file (without "python: ").
std::string file_of(const std::string& origin) {
    return origin.rfind("python: ", 0) == 0 ? origin.substr(8) : origin;
}

void register_plugin_file(uintptr_t registry_address, uintptr_t report_address, const std::string& path,
                          const std::vector<py::object>& classes, const std::string& name, const std::string& version,
                          const std::string& error) {
    auto& registry = *reinterpret_cast<AnalysisRegistry*>(registry_address);
    auto& report = *reinterpret_cast<PluginLoadReport*>(report_address);
    report.path = path;
    report.name = name;
    report.version = version;
    report.loaded = false;
    if (!error.empty()) {
        report.error = error;
        return;
    }
    // Into a scratch registry first, so a file whose second class is bad adds nothing.
    AnalysisRegistry scratch;
    try {
        for (const py::object& cls : classes) scratch.add(python_analysis_factory(cls, path), path);
        std::vector<std::string> ids;
        for (const auto& a : scratch.list()) ids.push_back(a.id);
        registry.merge(std::move(scratch));
        report.analyses = ids;
        report.loaded = true;
    } catch (py::error_already_set& e) {
        report.error = py::module_::import("headscope._plugin_host").attr("describe_error")(e.value(), path, e.trace()).cast<std::string>();
    } catch (const std::exception& e) {
        report.error = e.what();
    }
}

}  // namespace

AnalysisFactory python_analysis_factory(py::object cls, const std::string& origin) {
    SharedPyObject shared(std::move(cls));
    const std::string file = file_of(origin);
    return [shared, file]() -> std::unique_ptr<Analysis> {
        py::gil_scoped_acquire gil;
        try {
            return std::make_unique<PythonAnalysis>(shared, file);
        } catch (py::error_already_set& e) {
            throw Error(py::module_::import("headscope._plugin_host").attr("describe_error")(e.value(), file, e.trace()).cast<std::string>());
        }
    };
}

void bind_python_analyses(py::module_& m) {
    py::class_<ContextObject>(m, "AnalysisContext", "What a Python analysis's run(ctx) gets.")
        .def_property_readonly("model", [](const ContextObject& c) { c.get(); return *c.model; })
        .def_property_readonly("cfg", [](const ContextObject& c) { return c.get().config(); })
        .def_property_readonly("params", [](const ContextObject& c) { return c.params; })
        .def_property_readonly("prompts",
                               [](const ContextObject& c) {
                                   py::list out;
                                   for (const auto& p : c.get().prompts) out.append(prompt_dict(p));
                                   return out;
                               })
        .def("__len__", [](const ContextObject& c) { return c.get().prompts.size(); })
        .def("tokens", [](const ContextObject& c, size_t i) { return c.get().tokens(i); }, py::arg("i"),
             "[1, T] tokens of prompt i")
        .def("corrupted_tokens", [](const ContextObject& c, size_t i) { return c.get().corrupted_tokens(i); },
             py::arg("i"))
        .def(
            "clean_run",
            [](const ContextObject& c, size_t i) {
                const CachedRun* run = nullptr;
                {
                    py::gil_scoped_release release;
                    run = &c.get().clean_run(i);
                }
                return py::make_tuple(run->logits, run->cache);
            },
            py::arg("i"), "(logits, cache) of prompt i with the hooks the analysis declared; computed once")
        .def(
            "prefetch_clean_runs",
            [](const ContextObject& c, std::vector<size_t> which) {
                py::gil_scoped_release release;
                c.get().prefetch_clean_runs(which);
            },
            py::arg("prompts"), "batches the clean runs of these prompts (equal lengths share a forward)")
        .def("final_position_logits_only", [](const ContextObject& c) { c.get().final_position_logits_only(); })
        .def("check_cancelled", [](const ContextObject& c) { c.get().check_cancelled(); },
             "raises headscope.Cancelled when the user asked to stop")
        .def("step", [](const ContextObject& c, double fraction, const std::string& message) { c.get().step(fraction, message); },
             py::arg("fraction"), py::arg("message") = "", "reports progress, then check_cancelled()");

    m.def("_register_plugin", &register_plugin_file);
    m.def("_core_identity", [] { return reinterpret_cast<uintptr_t>(&register_plugin); },
          "the address of this package's headscope core (a host refuses a package built against another)");
}

}  // namespace headscope::python
