// headscope.ActivationCache (hook name -> torch tensor, the tensors the forward produced),
// headscope.HookPoint (what a hook function is told) and headscope.Hook (hooks that stay registered
// until removed: m.add_hook, m.add_interventions, the m.hooks(...) context).
#include <fmt/format.h>

#include "bindings.hpp"

namespace headscope::python {

namespace {

// Hooks registered on a model until remove() (or the end of a `with` block).
struct HookObject {
    std::shared_ptr<std::vector<HookHandle>> handles = std::make_shared<std::vector<HookHandle>>();
    std::vector<std::string> names;  // hook points covered
    void remove() {
        for (auto& h : *handles) h.remove();
        handles->clear();
    }
};

HookObject add_hooks(Model& m, const std::vector<NamedHook>& hooks) {
    HookObject out;
    for (const NamedHook& h : hooks) {
        out.handles->push_back(m.model().add_hook(h.name_or_glob, h.fn));
        for (const auto& n : m.model().resolve_hooks(h.name_or_glob)) out.names.push_back(n);
    }
    return out;
}

// cache["blocks.0.attn.hook_pattern"], cache["pattern", 0], cache["embed"].
std::string cache_key(const ActivationCache& cache, py::handle key) {
    if (py::isinstance<py::tuple>(key)) {
        py::tuple t = py::reinterpret_borrow<py::tuple>(key);
        if (t.size() < 1 || t.size() > 3 || !py::isinstance<py::str>(t[0]))
            throw UsageError("cache keys are a hook name or (short name, layer), e.g. ('pattern', 0)");
        const int layer = t.size() >= 2 && !t[1].is_none() ? t[1].cast<int>() : -1;
        return hook_name(t[0].cast<std::string>(), layer);
    }
    const std::string name = key.cast<std::string>();
    if (cache.contains(name) || parse_hook_name(name)) return name;
    try {
        return hook_name(name, -1);  // "embed" -> "hook_embed"
    } catch (const UsageError&) {
        return name;  // cache.at names what the cache holds
    }
}

}  // namespace

void bind_cache_and_hooks(py::module_& mod) {
    py::class_<HookPoint>(mod, "HookPoint", "The hook point a hook function is called at.")
        .def_readonly("name", &HookPoint::name)
        .def("layer", [](const HookPoint& p) -> py::object {
            if (p.key.layer < 0) return py::none();
            return py::int_(p.key.layer);
        })
        .def("__repr__", [](const HookPoint& p) { return "<HookPoint " + p.name + ">"; });

    py::class_<HookObject>(mod, "Hook", "Hooks registered until .remove() (or the end of a with block).")
        .def("remove", &HookObject::remove)
        .def_readonly("names", &HookObject::names)
        .def("__len__", [](const HookObject& h) { return h.names.size(); })
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](HookObject& h, py::args) { h.remove(); })
        .def("__repr__", [](const HookObject& h) {
            return fmt::format("<headscope.Hook at {} point(s){}>", h.names.size(), h.handles->empty() ? ", removed" : "");
        });

    py::class_<ActivationCache>(mod, "ActivationCache",
                                "Activations by hook name: cache['blocks.0.attn.hook_pattern'] or cache['pattern', 0]")
        .def("__getitem__", [](const ActivationCache& c, py::handle key) { return c.at(cache_key(c, key)); })
        .def("__contains__",
             [](const ActivationCache& c, py::handle key) {
                 try {
                     return c.contains(cache_key(c, key));
                 } catch (const UsageError&) {
                     return false;
                 }
             })
        .def("__len__", &ActivationCache::size)
        .def("__iter__", [](const ActivationCache& c) { return py::iter(py::cast(c.names())); })
        .def("keys", [](const ActivationCache& c) { return c.names(); })
        .def("values",
             [](const ActivationCache& c) {
                 std::vector<at::Tensor> out;
                 for (const auto& n : c.names()) out.push_back(c.at(n));
                 return out;
             })
        .def("items",
             [](const ActivationCache& c) {
                 std::vector<std::pair<std::string, at::Tensor>> out;
                 for (const auto& n : c.names()) out.emplace_back(n, c.at(n));
                 return out;
             })
        .def("to_dict",
             [](const ActivationCache& c) {
                 py::dict d;
                 for (const auto& n : c.names()) d[py::str(n)] = c.at(n);
                 return d;
             })
        .def("__repr__", [](const ActivationCache& c) {
            return fmt::format("<headscope.ActivationCache of {} activations>", c.size());
        });

    auto model = py::reinterpret_borrow<py::class_<Model>>(mod.attr("Model"));
    model
        .def(
            "add_hook",
            [](Model& m, py::object name, py::object fn) {
                return add_hooks(m, forward_hooks(m.model(), py::make_tuple(py::make_tuple(name, fn))));
            },
            py::arg("name"), py::arg("fn"),
            "registers fn(tensor, hook) -> None | tensor at a name, glob or name filter until the Hook is removed")
        .def(
            "add_interventions",
            [](Model& m, py::handle specs) { return add_hooks(m, intervention_hooks(m.model(), specs)); },
            py::arg("specs"), "registers --intervene edits ('L1H4=zero', ...) until the Hook is removed");
}

}  // namespace headscope::python
