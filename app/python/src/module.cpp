// headscope._core: the module, its exception types, and the functions that are not methods.
#include <filesystem>

#include "bindings.hpp"
#include "headscope/threads.hpp"
#include "headscope/default_paths.hpp"
#include "headscope/intervention_spec.hpp"
#include "headscope/report/report.hpp"

namespace headscope::python {

namespace {

struct ErrorTypes {
    py::handle error, format, config, usage, io, resource, cancelled, analysis;
};
ErrorTypes g_errors;

py::handle new_error(py::module_& m, const char* name, py::handle bases, const char* doc) {
    const std::string qualified = std::string("headscope.") + name;
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (!type) throw py::error_already_set();
    m.attr(name) = py::handle(type);  // the module holds one reference; `type` stays ours for good
    return type;
}

// Sets the Python error (a translator that returns has handled the exception).
void raise(py::handle type, const std::exception& e) {
    py::object error = type(e.what());
    if (const auto* f = dynamic_cast<const FormatError*>(&e)) {
        error.attr("file") = f->file();
        error.attr("problem") = f->problem();
    }
    PyErr_SetObject(type.ptr(), error.ptr());
}

std::string model_path(py::handle path) {
    namespace fs = std::filesystem;
    if (path.is_none()) {
        const std::string builtin = default_model_path();
        if (!fs::exists(builtin))
            throw UsageError("no path given and the built-in model is missing at " + builtin +
                             " (set HEADSCOPE_DATA_DIR to the folder holding models/tiny-world)");
        return builtin;
    }
    const std::string p = py::module_::import("os").attr("fspath")(path).cast<std::string>();
    std::error_code ec;
    if (!fs::exists(p, ec) && p.find('/') == std::string::npos) {
        const std::string builtin = builtin_model_path(p);  // "tiny-world", "induction-2l"
        if (fs::exists(builtin, ec)) return builtin;
    }
    return p;
}

Model load(py::handle path, py::handle dtype, const std::string& device, const std::string& weights,
           const std::string& tokenizer, double max_memory_gb) {
    LoadOptions options;
    options.tokenizer_path = tokenizer;
    options.max_memory_gb = max_memory_gb;
    options.compute.dtype = parse_dtype(dtype);
    try {
        options.compute.device = c10::Device(device);
    } catch (const std::exception&) {
        throw UsageError("device: unknown device '" + device + "' (use cpu, cuda or cuda:N)");
    }
    if (weights == "auto") options.compute.residency = WeightResidency::automatic;
    else if (weights == "resident") options.compute.residency = WeightResidency::resident;
    else if (weights == "streamed") options.compute.residency = WeightResidency::streamed;
    else throw UsageError("weights: unknown policy '" + weights + "' (use auto, resident or streamed)");
    const std::string resolved = model_path(path);
    Model m;
    {
        py::gil_scoped_release release;
        m.loaded = load_model(resolved, options);
    }
    return m;
}

py::dict describe(py::handle path) {
    const std::string resolved = model_path(path);
    ModelDescription d;
    {
        py::gil_scoped_release release;
        d = describe_model(resolved);
    }
    py::dict out;
    out["path"] = d.path;
    out["format"] = to_string(d.format);
    out["cfg"] = py::cast(d.config);
    out["parameters"] = d.parameters;
    out["stored_bytes"] = d.stored_bytes;
    out["largest_layer_parameters"] = d.largest_layer_parameters;
    out["storage_types"] = d.storage_types;
    out["quantized"] = d.quantized;
    return out;
}

}  // namespace

py::handle error_type(const char* name) {
    const std::string n = name;
    if (n == "FormatError") return g_errors.format;
    if (n == "ConfigError") return g_errors.config;
    if (n == "UsageError") return g_errors.usage;
    if (n == "IoError") return g_errors.io;
    if (n == "ResourceError") return g_errors.resource;
    if (n == "Cancelled") return g_errors.cancelled;
    if (n == "AnalysisError") return g_errors.analysis;
    return g_errors.error;
}

void bind_errors(py::module_& m) {
    py::handle base = new_error(m, "Error", PyExc_Exception, "Base of every error headscope raises on purpose.");
    auto with = [&](PyObject* other) { return py::make_tuple(base, py::handle(other)); };
    g_errors.error = base;
    g_errors.format = new_error(m, "FormatError", py::make_tuple(base),
                                "A file is not a valid checkpoint, tokenizer or store (.file and .problem say which and why).");
    g_errors.config = new_error(m, "ConfigError", py::make_tuple(base), "A model configuration that cannot run.");
    g_errors.usage = new_error(m, "UsageError", with(PyExc_ValueError),
                               "An invalid request: unknown hook name, wrong shape, bad option...");
    g_errors.io = new_error(m, "IoError", with(PyExc_OSError), "Reading or writing a file failed.");
    g_errors.resource = new_error(m, "ResourceError", with(PyExc_MemoryError),
                                  "The work would not fit in the memory allowed (the estimate is in the message).");
    g_errors.cancelled = new_error(m, "Cancelled", py::make_tuple(base), "The work was cancelled.");
    g_errors.analysis = new_error(m, "AnalysisError", py::make_tuple(base),
                                  "An analysis failed (its message, and a Python analysis's traceback).");
    py::register_local_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const FormatError& e) {
            raise(g_errors.format, e);
        } catch (const ConfigError& e) {
            raise(g_errors.config, e);
        } catch (const UsageError& e) {
            raise(g_errors.usage, e);
        } catch (const IoError& e) {
            raise(g_errors.io, e);
        } catch (const ResourceError& e) {
            raise(g_errors.resource, e);
        } catch (const Interrupted& e) {
            e.restore();  // Ctrl+C: the KeyboardInterrupt itself
        } catch (const Cancelled& e) {
            raise(g_errors.cancelled, e);
        } catch (const Error& e) {
            raise(g_errors.error, e);
        }
    });
}

}  // namespace headscope::python

PYBIND11_MODULE(_core, m) {
    using namespace headscope;
    using namespace headscope::python;
    m.doc() = "headscope's core from Python (see the headscope package for the documented API).";
    m.attr("__version__") = HEADSCOPE_VERSION;
    // Before any parallel region: the thread budget of this process and the load governor
    // (headscope/threads.hpp). A Python process is often one of several on a shared machine.
    configure_threads();
    m.def(
        "set_threads", [](int n) { configure_threads(n); }, py::arg("n") = 0,
        "at most n CPU threads (0: the CPUs this process may use); fewer while other processes keep CPUs busy "
        "unless HEADSCOPE_ADAPTIVE_THREADS=0");
    m.def("threads", &threads_text, "the thread count and where it comes from, e.g. '2 threads (adaptive, at most 2; ...)'");
    bind_errors(m);
    bind_model(m);
    bind_cache_and_hooks(m);
    bind_results(m);
    bind_analyses(m);
    bind_python_analyses(m);
    bind_sweep(m);

    m.def("load", &load, py::arg("path") = py::none(), py::arg("dtype") = "float32", py::arg("device") = "cpu",
          py::arg("weights") = "auto", py::arg("tokenizer") = "", py::arg("max_memory_gb") = 0.0,
          "Loads a model: a llama2.c .bin, a .gguf file, a Hugging Face folder, or a built-in model by name\n"
          "('tiny-world', 'induction-2l'; None = tiny-world). Weights are memory-mapped in their stored dtype.");
    m.def("describe", &describe, py::arg("path") = py::none(),
          "What a checkpoint holds, from its headers only (no weight is read).");
    m.def("hook_name", py::overload_cast<std::string_view, int>(&hook_name), py::arg("short_name"),
          py::arg("layer") = -1, "('pattern', 3) -> 'blocks.3.attn.hook_pattern'");
    m.def(
        "parse_heads",
        [](const std::string& text) {
            std::vector<std::pair<int, int>> out;
            for (const HeadRef& h : parse_heads(text)) out.emplace_back(h.layer, h.head);
            return out;
        },
        py::arg("text"), "'L1H4, 2.0' -> [(1, 4), (2, 0)]");
    m.def("intervention_grammar", &intervention_grammar, "The grammar of intervention specs ('L1H4=zero', ...).");
    m.def(
        "report",
        [](py::handle results, py::object html, py::object pdf) {
            auto os = py::module_::import("os");
            const std::string h5 = os.attr("fspath")(results).cast<std::string>();
            const std::string html_path = html.is_none() ? "" : os.attr("fspath")(html).cast<std::string>();
            const std::string pdf_path = pdf.is_none() ? "" : os.attr("fspath")(pdf).cast<std::string>();
            if (html_path.empty() && pdf_path.empty()) throw UsageError("report: name html=... and/or pdf=...");
            py::gil_scoped_release release;
            render_report_files(h5, html_path, pdf_path);
        },
        py::arg("results"), py::arg("html") = py::none(), py::arg("pdf") = py::none(),
        "Renders a results .h5 as a self-contained HTML page and/or a PDF (no model needed).");
    m.def("default_model_path", &default_model_path, "The built-in tiny-world model's folder.");
    m.def("builtin_prompts_path", &builtin_prompts_path, py::arg("task"),
          "A built-in prompt set: 'ioi' -> data/prompts/ioi.jsonl.");
}
