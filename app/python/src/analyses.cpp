// headscope.analyses(), headscope.analyze(), headscope.plugins() and headscope.register_analysis():
// the same registry the CLI and the GUI use (built-ins through the plugin path, plugins from
// --plugin-dir folders, HEADSCOPE_PLUGIN_PATH, next to the executable, the user folder), plus
// analysis classes registered from Python.
#include <fmt/format.h>

#include "bindings.hpp"
#include "builtin_analyses.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/plugin_loader.hpp"

namespace headscope::python {

namespace {

struct PythonRegistry {
    AnalysisRegistry registry;
    std::vector<PluginLoadReport> reports;
    std::vector<std::string> plugin_dirs;  // extra folders asked for so far
    std::vector<SharedPyObject> classes;   // headscope.register_analysis(cls), in order
    bool built = false;

    void rebuild() {
        AnalysisRegistry fresh;
        std::vector<PluginLoadReport> fresh_reports;
        fresh_reports.push_back(register_plugin(fresh, headscope_builtin_plugin_info(), "built-in"));
        for (auto& r : load_plugins(fresh, plugin_dirs)) fresh_reports.push_back(std::move(r));
        for (const SharedPyObject& cls : classes) {
            const std::string origin = class_origin(cls.get());
            fresh.add(python_analysis_factory(cls.get(), origin), origin);
        }
        registry = std::move(fresh);
        reports = std::move(fresh_reports);
        built = true;
        py::module_ warnings = py::module_::import("warnings");
        for (const auto& r : reports)
            if (!r.loaded) warnings.attr("warn")(fmt::format("headscope: plugin {} refused: {}", r.path, r.error));
    }

    static std::string class_origin(const py::object& cls) {
        py::object file = py::module_::import("inspect").attr("getfile");
        try {
            return "python: " + file(cls).cast<std::string>();
        } catch (const py::error_already_set&) {
            return "python: " + py::str(cls.attr("__module__")).cast<std::string>();
        }
    }
};

// Never destroyed: it holds Python classes, and statics are destroyed after the interpreter.
PythonRegistry& state() {
    static auto* s = new PythonRegistry();
    return *s;
}

py::dict param_dict(const ParamSpec& p) {
    py::dict d;
    d["name"] = p.name;
    d["type"] = to_string(p.type);
    d["default"] = p.default_value;
    d["help"] = p.help;
    d["choices"] = p.choices;
    if (p.min > -1e299) d["min"] = p.min;
    if (p.max < 1e299) d["max"] = p.max;
    return d;
}

std::vector<AnalysisRequest> requests_for(const AnalysisRegistry& registry, py::handle analysis, py::handle settings,
                                          const py::kwargs& params) {
    std::vector<AnalysisRequest> requests;
    for (const std::string& id : to_strings(analysis, "analysis")) {
        registry.info(id);  // unknown ids fail before any work
        requests.push_back(AnalysisRequest{id, {}});
    }
    if (requests.empty()) throw UsageError("analyze: name at least one analysis (see headscope.analyses())");
    if (params.size() > 0) {
        if (requests.size() != 1)
            throw UsageError("analyze: parameters as keywords apply to one analysis; for several pass "
                             "settings={'id': {'param': value}}");
        for (auto [k, v] : params) requests.front().parameters[py::str(k).cast<std::string>()] = parameter_text(v);
    }
    if (!settings.is_none()) {
        for (auto [id, values] : settings.cast<py::dict>()) {
            const std::string name = py::str(id).cast<std::string>();
            AnalysisRequest* target = nullptr;
            for (auto& r : requests)
                if (r.id == name) target = &r;
            if (!target) throw UsageError("settings: '" + name + "' is not among the analyses asked for");
            for (auto [k, v] : values.cast<py::dict>())
                target->parameters[py::str(k).cast<std::string>()] = parameter_text(v);
        }
    }
    for (const auto& r : requests) ParamValues(r.id, registry.info(r.id).parameters, r.parameters);  // checked early
    return requests;
}

py::object analyze(Model& m, py::handle analysis, py::handle prompts, py::handle prompt, py::handle intervene,
                   py::handle plugin_dirs, py::handle settings, py::object progress, const std::string& errors,
                   const py::kwargs& params) {
    if (errors != "raise" && errors != "keep") throw UsageError("errors: 'raise' or 'keep', not '" + errors + "'");
    AnalysisRegistry& registry = python_registry(plugin_dirs);
    std::vector<AnalysisRequest> requests = requests_for(registry, analysis, settings, params);
    std::string source;
    std::vector<PromptExample> examples = to_prompts(prompts, prompt, &source);
    std::vector<TokenizedPrompt> tokenized = tokenize_prompts(m.tokenizer(), examples);
    std::vector<std::string> texts;
    for (const auto& e : examples) texts.push_back(e.prompt);
    // --intervene: every analysis sees the edited model (its clean runs are the edited runs).
    HookScope edits;
    const std::vector<std::string> specs = to_strings(intervene, "intervene");
    for (const auto& h : intervention_hooks(m.model(), intervene)) edits.add(m.model().add_hook(h.name_or_glob, h.fn));
    std::vector<std::string> ids;
    for (const auto& r : requests) ids.push_back(r.id);
    const std::string command = fmt::format("python: headscope.analyze({})", fmt::join(ids, ", "));
    std::shared_ptr<const Provenance> provenance;
    {
        py::gil_scoped_release release;  // the model file's SHA-256, once per model
        provenance = std::make_shared<const Provenance>(m.provenance(texts, source, command));
    }
    PythonProgress reporter(progress);
    py::list out;
    for (const auto& request : requests) {
        Result result;
        try {
            py::gil_scoped_release release;
            result = run_analysis(registry, request, m.model(), m.tokenizer(), tokenized, reporter);
        } catch (const Cancelled& e) {
            reporter.rethrow_cancelled(e);
        }
        if (!specs.empty()) result.summary.insert(result.summary.begin(), "with head edits " + fmt::format("{}", fmt::join(specs, ", ")));
        if (!result.error.empty() && errors == "raise") {
            PyErr_SetString(error_type("AnalysisError").ptr(), (request.id + " failed: " + result.error).c_str());
            throw py::error_already_set();
        }
        out.append(result_object(std::move(result), provenance));
    }
    if (py::isinstance<py::str>(analysis)) return out[0];
    return std::move(out);
}

}  // namespace

AnalysisRegistry& python_registry(py::handle plugin_dirs) {
    PythonRegistry& s = state();
    bool changed = !s.built;
    for (const std::string& d : to_strings(plugin_dirs, "plugin_dirs")) {
        const std::string dir = py::module_::import("os").attr("path").attr("abspath")(d).cast<std::string>();
        if (std::find(s.plugin_dirs.begin(), s.plugin_dirs.end(), dir) == s.plugin_dirs.end()) {
            s.plugin_dirs.push_back(dir);
            changed = true;
        }
    }
    if (changed) s.rebuild();
    return s.registry;
}

void add_registered_class(py::object cls) {
    PythonRegistry& s = state();
    python_registry();
    const std::string origin = PythonRegistry::class_origin(cls);
    s.registry.add(python_analysis_factory(cls, origin), origin);  // throws (adding nothing) on a bad class
    s.classes.emplace_back(std::move(cls));
}

void bind_analyses(py::module_& m) {
    py::class_<AnalysisInfo>(m, "AnalysisInfo", "An analysis in the registry: id, title, parameters, origin.")
        .def_readonly("id", &AnalysisInfo::id)
        .def_readonly("title", &AnalysisInfo::title)
        .def_readonly("version", &AnalysisInfo::version)
        .def_readonly("description", &AnalysisInfo::description)
        .def_readonly("needs_prompts", &AnalysisInfo::needs_prompts)
        .def_readonly("origin", &AnalysisInfo::origin)
        .def_property_readonly("parameters",
                               [](const AnalysisInfo& a) {
                                   py::list out;
                                   for (const auto& p : a.parameters) out.append(param_dict(p));
                                   return out;
                               })
        .def("__repr__", [](const AnalysisInfo& a) {
            return fmt::format("<headscope.AnalysisInfo {} v{} ({})>", a.id, a.version, a.origin);
        });
    py::class_<PluginLoadReport>(m, "PluginReport", "How loading one plugin file went.")
        .def_readonly("path", &PluginLoadReport::path)
        .def_readonly("name", &PluginLoadReport::name)
        .def_readonly("version", &PluginLoadReport::version)
        .def_readonly("loaded", &PluginLoadReport::loaded)
        .def_readonly("error", &PluginLoadReport::error)
        .def_readonly("analyses", &PluginLoadReport::analyses)
        .def("__repr__", [](const PluginLoadReport& r) {
            return fmt::format("<headscope.PluginReport {} {}>", r.path, r.loaded ? "loaded" : "refused: " + r.error);
        });

    m.def(
        "analyses", [](py::handle plugin_dirs) { return python_registry(plugin_dirs).list(); },
        py::arg("plugin_dirs") = py::none(), "every analysis (built-in, plugins, registered from Python), sorted by id");
    m.def(
        "plugins",
        [](py::handle plugin_dirs) {
            python_registry(plugin_dirs);
            return state().reports;
        },
        py::arg("plugin_dirs") = py::none(), "one report per plugin file found (built-ins first)");
    m.def("register_analysis", &add_registered_class, py::arg("cls"),
          "adds a headscope.Analysis subclass to the registry headscope.analyze uses");
    m.def("analyze", &analyze, py::arg("model"), py::arg("analysis"), py::arg("prompts") = py::none(),
          py::arg("prompt") = py::none(), py::arg("intervene") = py::none(), py::arg("plugin_dirs") = py::none(),
          py::arg("settings") = py::none(), py::arg("progress") = py::none(), py::arg("errors") = "raise",
          "runs an analysis (or a list of them) on a model; keyword arguments are its parameters");
}

}  // namespace headscope::python
