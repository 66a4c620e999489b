// headscope.HeadSweep: the same edit on each of many heads, one candidate run per head, through
// core's HeadSweep (the residual stream cached once, only the layers from the edited one re-run,
// heads batched, logits only at the scored positions). Ctrl+C stops it between passes.
#include <fmt/format.h>

#include "bindings.hpp"
#include "headscope/head_sweep.hpp"

namespace headscope::python {

namespace {

struct SweepObject {
    std::shared_ptr<HookedTransformer> model;  // kept alive as long as the sweep
    std::unique_ptr<HeadSweep> sweep;
    ModelConfig config;
};

SweepEdit to_edit(py::handle edit, bool final_only) {
    if (!py::isinstance<py::str>(edit) && PyCallable_Check(edit.ptr())) {
        // edit(layer) -> the z put in: broadcastable to [1, T, H, d_head] or [N, T, H, d_head].
        SharedPyObject fn(py::reinterpret_borrow<py::object>(edit));
        return SweepEdit::set(
            [fn](int layer) {
                py::gil_scoped_acquire gil;
                py::object z = call_python([&] { return fn.get()(layer); });
                if (!THPVariable_Check(z.ptr()))
                    throw UsageError(fmt::format("HeadSweep: the z function returned no tensor for layer {}", layer));
                return THPVariable_Unpack(z.ptr());
            },
            final_only);
    }
    const std::string text = edit.cast<std::string>();
    const HeadEdit e = parse_edit(HeadRef{}, text);
    switch (e.kind) {
        case EditKind::zero: return SweepEdit::zero(final_only);
        case EditKind::scale: return SweepEdit::scale(e.value, final_only);
        case EditKind::pattern:
            if (e.target != PatternTarget::head) return SweepEdit::pattern(e.target, e.value);
            break;
        default: break;
    }
    throw UsageError("HeadSweep edit '" + text +
                     "': use zero, scale:F, pattern:uniform|identity|previous[@ALPHA], or a function layer -> z");
}

py::object run(SweepObject& s, py::handle heads_arg, py::handle edit_arg, bool final_only, py::object score) {
    const std::vector<HeadRef> heads = to_heads(s.config, heads_arg);
    const SweepEdit edit = to_edit(edit_arg, final_only);
    PythonProgress watch;
    at::Tensor all;
    SharedPyObject scorer(score);
    const bool collect = score.is_none();
    try {
        py::gil_scoped_release release;
        s.sweep->run(
            heads, edit,
            [&](size_t first, const at::Tensor& logits) {
                if (collect) {
                    if (!all.defined()) {
                        std::vector<int64_t> shape = logits.sizes().vec();
                        shape[0] = static_cast<int64_t>(heads.size());
                        all = at::empty(shape, logits.options());
                    }
                    all.narrow(0, static_cast<int64_t>(first), logits.size(0)).copy_(logits);
                } else {
                    py::gil_scoped_acquire gil;
                    call_python([&] { return scorer.get()(first, logits); });
                }
            },
            [&] { watch.check(); });
    } catch (const Cancelled& e) {
        watch.rethrow_cancelled(e);
    }
    if (collect) return py::cast(all);
    return py::none();
}

}  // namespace

void bind_sweep(py::module_& m) {
    py::class_<SweepObject>(m, "HeadSweep",
                            "HeadSweep(model, input, intervene=None, positions=[-1]): runs input once (with the base "
                            "edits) and caches the residual stream; .run(heads, edit) then scores one candidate per head.")
        .def(py::init([](Model& model, py::handle x, py::handle intervene, std::vector<int64_t> positions,
                         bool prepend_bos) {
                 at::Tensor tokens = to_tokens(model, x, prepend_bos);
                 std::vector<NamedHook> base = intervention_hooks(model.model(), intervene);
                 SweepObject s;
                 s.model = model.loaded.model;
                 s.config = model.model().config();
                 py::gil_scoped_release release;
                 s.sweep = std::make_unique<HeadSweep>(*s.model, tokens, std::move(base), std::move(positions));
                 return s;
             }),
             py::arg("model"), py::arg("input"), py::arg("intervene") = py::none(),
             py::arg("positions") = std::vector<int64_t>{-1}, py::arg("prepend_bos") = true)
        .def_property_readonly("base_logits", [](const SweepObject& s) { return s.sweep->base_logits(); },
                               "the base run's logits at the scored positions [N, P, d_vocab]")
        .def_property_readonly("prompts", [](const SweepObject& s) { return s.sweep->prompts(); })
        .def_property_readonly("candidates_per_pass", [](const SweepObject& s) { return s.sweep->candidates_per_pass(); })
        .def("run", &run, py::arg("heads") = "all", py::arg("edit") = "zero", py::arg("final_only") = false,
             py::arg("score") = py::none(),
             "candidate i edits heads[i] ('all', ['L1H4', (2, 0)], ...) with edit ('zero', 'scale:0.5', "
             "'pattern:uniform@0.5', or a function layer -> z); returns logits [len(heads), N, P, d_vocab], or with "
             "score=fn(first, logits) hands each chunk to fn and returns None");
}

}  // namespace headscope::python
