// The bridge between a headscope host (CLI, GUI, or Python itself) and analyses written in Python.
// core's plugin loader dlopens this library the first time it finds a .py plugin; it starts the
// embedded interpreter when the host is not Python (no signal handlers: the host keeps Ctrl+C),
// puts the headscope package built with this library first on sys.path, and hands the file to
// headscope._plugin_host, which registers its analysis classes into the host's registry. Only the
// Python C API is used here; everything else lives in the headscope package.
#include <Python.h>

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <string>

#include "headscope/sdk/plugin_loader.hpp"

#ifndef HEADSCOPE_PYTHON_EXECUTABLE
#define HEADSCOPE_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif

namespace fs = std::filesystem;

namespace {

std::string g_init_error;

// The folder holding the headscope package that matches this build: build/python next to
// build/core in a build tree, <libdir>/headscope/python when installed.
std::string package_root() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<const void*>(&package_root), &info) == 0 || !info.dli_fname) return "";
    const fs::path dir = fs::path(info.dli_fname).parent_path();
    for (const fs::path& candidate : {dir.parent_path() / "python", dir / "headscope" / "python"}) {
        std::error_code ec;
        if (fs::exists(candidate / "headscope" / "__init__.py", ec)) return candidate.string();
    }
    return "";
}

// The pending Python exception as text (type, message and traceback), cleared.
std::string fetch_error() {
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    std::string text = "unknown Python error";
    if (PyObject* mod = PyImport_ImportModule("traceback")) {
        if (PyObject* lines = PyObject_CallMethod(mod, "format_exception", "OOO", type ? type : Py_None,
                                                 value ? value : Py_None, tb ? tb : Py_None)) {
            PyObject* empty = PyUnicode_FromString("");
            if (PyObject* joined = PyUnicode_Join(empty, lines)) {
                if (const char* s = PyUnicode_AsUTF8(joined)) text = s;
                Py_DECREF(joined);
            }
            Py_XDECREF(empty);
            Py_DECREF(lines);
        }
        Py_DECREF(mod);
    }
    PyErr_Clear();
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return text;
}

// Starts the interpreter when nobody has (the CLI, the GUI): Debian's python3 as the program,
// so sys.prefix and site-packages (torch, numpy) are the ones the package was built for.
void start_interpreter() {
    if (Py_IsInitialized()) return;
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;  // Ctrl+C stays the host's (it cancels analyses)
    config.parse_argv = 0;
    PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, HEADSCOPE_PYTHON_EXECUTABLE);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        g_init_error = std::string("cannot start the Python interpreter: ") + (status.err_msg ? status.err_msg : "unknown error");
        return;
    }
    // Any thread (the GUI's engine thread) takes the GIL when it runs Python from now on.
    PyEval_SaveThread();
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int headscope_python_load_plugin(headscope::AnalysisRegistry* registry,
                                                                                   const char* path,
                                                                                   headscope::PluginLoadReport* report,
                                                                                   const void* identity) {
    static std::once_flag once;
    std::call_once(once, start_interpreter);
    if (!g_init_error.empty()) {
        report->error = g_init_error;
        return 1;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    int rc = 1;
    PyObject* host = nullptr;
    const std::string root = package_root();
    if (!root.empty()) {
        // This build's package first, so the host and the package share one headscope core.
        PyObject* sys_path = PySys_GetObject("path");  // borrowed
        PyObject* entry = PyUnicode_FromString(root.c_str());
        if (sys_path && entry && PySequence_Contains(sys_path, entry) == 0) PyList_Insert(sys_path, 0, entry);
        Py_XDECREF(entry);
    }
    host = PyImport_ImportModule("headscope._plugin_host");
    if (!host) {
        report->error = "cannot import the headscope Python package" +
                        (root.empty() ? std::string(" (not found next to this build's libheadscope_python.so)") : " from " + root) +
                        ": " + fetch_error();
    } else {
        PyObject* result = PyObject_CallMethod(host, "load_into", "KsKK", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(registry)),
                                               path, static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(report)),
                                               static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(identity)));
        if (!result) {
            report->loaded = false;
            report->error = fetch_error();
        } else {
            rc = 0;
            Py_DECREF(result);
        }
        Py_DECREF(host);
    }
    PyGILState_Release(gil);
    return rc;
}
