// Results from Python: the item kinds (HeadGrid, Matrix, Spectrum, Table, TokenScores, Graph) with
// their numbers as torch tensors and their labels, headscope.Result (what an analysis returns),
// Provenance, saving to and reading back from results .h5 files.
#include <fmt/format.h>

#include "bindings.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope::python {

namespace {

struct ResultsObject {
    std::shared_ptr<const Provenance> provenance;
    std::vector<ResultObject> results;
};

// Any array-like -> a float64 CPU tensor (torch.as_tensor semantics).
at::Tensor as_doubles(py::handle values) {
    py::module_ torch = py::module_::import("torch");
    py::object t = torch.attr("as_tensor")(values, py::arg("dtype") = torch.attr("float64"));
    return THPVariable_Unpack(t.ptr()).to(at::kCPU).contiguous();
}

std::vector<double> flat(const at::Tensor& t) {
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

at::Tensor tensor_of(const std::vector<double>& v, std::vector<int64_t> shape) {
    return at::tensor(v, at::kDouble).view(shape);
}

Scale parse_scale(const std::string& s) {
    if (s == "sequential") return Scale::sequential;
    if (s == "diverging") return Scale::diverging;
    throw UsageError("scale: 'sequential' or 'diverging', not '" + s + "'");
}
std::string scale_name(Scale s) { return s == Scale::diverging ? "diverging" : "sequential"; }

std::optional<HeadRef> to_head(py::handle h) {
    if (h.is_none()) return std::nullopt;
    if (py::isinstance<py::str>(h)) return parse_head(h.cast<std::string>());
    auto pair = h.cast<std::pair<int, int>>();
    return HeadRef{pair.first, pair.second};
}

template <class T>
void fill_header(T& item, const std::string& key, const std::string& title, const std::string& description,
                 py::handle head) {
    item.key = key;
    item.title = title;
    item.description = description;
    item.head = to_head(head);
}

template <class T>
py::class_<T> item_class(py::module_& m, const char* name, const char* doc) {
    py::class_<T> c(m, name, doc);
    c.def_readwrite("key", &ItemHeader::key)
        .def_readwrite("title", &ItemHeader::title)
        .def_readwrite("description", &ItemHeader::description)
        .def_property(
            "head",
            [](const T& t) -> py::object {
                if (!t.head) return py::none();
                return py::str(head_label(*t.head));
            },
            [](T& t, py::handle h) { t.head = to_head(h); })
        .def_readwrite("appendix", &ItemHeader::appendix, "reference material: reports show it in their appendix")
        .def_property_readonly("kind", [](const T& t) { return std::string(kind_name(ResultItem(t))); })
        .def("__repr__", [name](const T& t) { return fmt::format("<headscope.{} {} '{}'>", name, t.key, t.title); });
    return c;
}

py::dict node_dict(const Graph::Node& n) {
    py::dict d;
    d["id"] = n.id;
    d["label"] = n.label;
    d["layer"] = n.layer;
    d["head"] = n.head;
    return d;
}

void bind_items(py::module_& m) {
    item_class<HeadGrid>(m, "HeadGrid", "One score per head: values [n_layers, n_heads].")
        .def(py::init([](const std::string& key, const std::string& title, py::handle values,
                         const std::string& description, const std::string& scale, py::handle head) {
                 HeadGrid g;
                 fill_header(g, key, title, description, head);
                 at::Tensor v = as_doubles(values);
                 if (v.dim() != 2) throw UsageError("HeadGrid " + key + ": values must be [n_layers, n_heads]");
                 g.layers = static_cast<int>(v.size(0));
                 g.heads = static_cast<int>(v.size(1));
                 g.values = flat(v);
                 g.scale = parse_scale(scale);
                 return g;
             }),
             py::arg("key"), py::arg("title"), py::arg("values"), py::arg("description") = "",
             py::arg("scale") = "sequential", py::arg("head") = py::none())
        .def_readonly("layers", &HeadGrid::layers)
        .def_readonly("heads", &HeadGrid::heads)
        .def_property_readonly("values", [](const HeadGrid& g) { return tensor_of(g.values, {g.layers, g.heads}); })
        .def_property("scale", [](const HeadGrid& g) { return scale_name(g.scale); },
                      [](HeadGrid& g, const std::string& s) { g.scale = parse_scale(s); })
        .def("__getitem__", [](const HeadGrid& g, std::pair<int, int> lh) { return g.at(lh.first, lh.second); })
        .def(
            "top",
            [](const HeadGrid& g, size_t count) {
                std::vector<std::pair<std::string, double>> out;
                const HeadOrder order = g.scale == Scale::diverging ? HeadOrder::magnitude : HeadOrder::highest;
                for (const RankedHead& r : top_heads(g, count, order)) out.emplace_back(head_label(r.head), r.value);
                return out;
            },
            py::arg("count") = 5, "the best heads as (label, value), largest |value| first for diverging grids");

    item_class<Matrix>(m, "Matrix", "A labelled 2-D array, e.g. one head's attention pattern.")
        .def(py::init([](const std::string& key, const std::string& title, py::handle values,
                         std::vector<std::string> row_labels, std::vector<std::string> col_labels,
                         const std::string& row_axis, const std::string& col_axis, const std::string& scale,
                         const std::string& description, py::handle head) {
                 Matrix x;
                 fill_header(x, key, title, description, head);
                 at::Tensor v = as_doubles(values);
                 if (v.dim() != 2) throw UsageError("Matrix " + key + ": values must be 2-D");
                 x.rows = static_cast<int>(v.size(0));
                 x.cols = static_cast<int>(v.size(1));
                 x.values = flat(v);
                 x.row_labels = std::move(row_labels);
                 x.col_labels = std::move(col_labels);
                 x.row_axis = row_axis;
                 x.col_axis = col_axis;
                 x.scale = parse_scale(scale);
                 return x;
             }),
             py::arg("key"), py::arg("title"), py::arg("values"), py::arg("row_labels") = std::vector<std::string>{},
             py::arg("col_labels") = std::vector<std::string>{}, py::arg("row_axis") = "", py::arg("col_axis") = "",
             py::arg("scale") = "sequential", py::arg("description") = "", py::arg("head") = py::none())
        .def_readonly("rows", &Matrix::rows)
        .def_readonly("cols", &Matrix::cols)
        .def_property_readonly("values", [](const Matrix& x) { return tensor_of(x.values, {x.rows, x.cols}); })
        .def_readwrite("row_labels", &Matrix::row_labels)
        .def_readwrite("col_labels", &Matrix::col_labels)
        .def_readwrite("row_axis", &Matrix::row_axis)
        .def_readwrite("col_axis", &Matrix::col_axis)
        .def_property("scale", [](const Matrix& x) { return scale_name(x.scale); },
                      [](Matrix& x, const std::string& s) { x.scale = parse_scale(s); });

    item_class<Spectrum>(m, "Spectrum", "Curves over an index, e.g. singular values: series {name: values}.")
        .def(py::init([](const std::string& key, const std::string& title, py::dict series, const std::string& x_axis,
                         const std::string& y_axis, bool log_y, const std::string& description, py::handle head) {
                 Spectrum s;
                 fill_header(s, key, title, description, head);
                 for (auto [name, values] : series) {
                     s.series_names.push_back(py::str(name).cast<std::string>());
                     s.series.push_back(flat(as_doubles(values).flatten()));
                 }
                 s.x_axis = x_axis;
                 s.y_axis = y_axis;
                 s.log_y = log_y;
                 return s;
             }),
             py::arg("key"), py::arg("title"), py::arg("series"), py::arg("x_axis") = "index",
             py::arg("y_axis") = "value", py::arg("log_y") = false, py::arg("description") = "",
             py::arg("head") = py::none())
        .def_property_readonly("series",
                               [](const Spectrum& s) {
                                   py::dict d;
                                   for (size_t i = 0; i < s.series.size(); ++i)
                                       d[py::str(s.series_names[i])] =
                                           tensor_of(s.series[i], {static_cast<int64_t>(s.series[i].size())});
                                   return d;
                               })
        .def_readwrite("x_axis", &Spectrum::x_axis)
        .def_readwrite("y_axis", &Spectrum::y_axis)
        .def_readwrite("log_y", &Spectrum::log_y);

    item_class<Table>(m, "Table", "Rows of numbers and text under named columns.")
        .def(py::init([](const std::string& key, const std::string& title, std::vector<std::string> columns,
                         std::vector<std::vector<Cell>> rows, const std::string& description, py::handle head) {
                 Table t;
                 fill_header(t, key, title, description, head);
                 for (const auto& r : rows)
                     if (r.size() != columns.size())
                         throw UsageError(fmt::format("Table {}: a row has {} cells for {} columns", key, r.size(),
                                                      columns.size()));
                 t.columns = std::move(columns);
                 t.rows = std::move(rows);
                 return t;
             }),
             py::arg("key"), py::arg("title"), py::arg("columns"), py::arg("rows"), py::arg("description") = "",
             py::arg("head") = py::none())
        .def_readwrite("columns", &Table::columns)
        .def_readwrite("rows", &Table::rows);

    item_class<TokenScores>(m, "TokenScores", "A score per token of a prompt.")
        .def(py::init([](const std::string& key, const std::string& title, std::vector<std::string> tokens,
                         py::handle scores, const std::string& scale, const std::string& description, py::handle head) {
                 TokenScores t;
                 fill_header(t, key, title, description, head);
                 t.tokens = std::move(tokens);
                 t.scores = flat(as_doubles(scores).flatten());
                 if (t.scores.size() != t.tokens.size())
                     throw UsageError(fmt::format("TokenScores {}: {} scores for {} tokens", key, t.scores.size(),
                                                  t.tokens.size()));
                 t.scale = parse_scale(scale);
                 return t;
             }),
             py::arg("key"), py::arg("title"), py::arg("tokens"), py::arg("scores"), py::arg("scale") = "sequential",
             py::arg("description") = "", py::arg("head") = py::none())
        .def_readwrite("tokens", &TokenScores::tokens)
        .def_property_readonly("scores", [](const TokenScores& t) {
            return tensor_of(t.scores, {static_cast<int64_t>(t.scores.size())});
        });

    item_class<Graph>(m, "Graph", "Nodes (heads) and weighted edges between them.")
        .def(py::init([](const std::string& key, const std::string& title, py::list nodes, py::list edges,
                         const std::string& description, py::handle head) {
                 Graph g;
                 fill_header(g, key, title, description, head);
                 for (py::handle n : nodes) {
                     py::dict d = n.cast<py::dict>();
                     Graph::Node node;
                     node.id = d["id"].cast<std::string>();
                     node.label = d.contains("label") ? d["label"].cast<std::string>() : node.id;
                     node.layer = d.contains("layer") ? d["layer"].cast<int>() : -1;
                     node.head = d.contains("head") ? d["head"].cast<int>() : -1;
                     g.nodes.push_back(node);
                 }
                 for (py::handle e : edges) {
                     py::dict d = e.cast<py::dict>();
                     Graph::Edge edge;
                     edge.from = d["from"].cast<int>();
                     edge.to = d["to"].cast<int>();
                     edge.weight = d.contains("weight") ? d["weight"].cast<double>() : 1.0;
                     edge.kind = d.contains("kind") ? d["kind"].cast<std::string>() : "";
                     if (edge.from < 0 || edge.to < 0 || edge.from >= static_cast<int>(g.nodes.size()) ||
                         edge.to >= static_cast<int>(g.nodes.size()))
                         throw UsageError("Graph " + key + ": an edge names a node index outside the node list");
                     g.edges.push_back(edge);
                 }
                 return g;
             }),
             py::arg("key"), py::arg("title"), py::arg("nodes"), py::arg("edges"), py::arg("description") = "",
             py::arg("head") = py::none())
        .def_property_readonly("nodes",
                               [](const Graph& g) {
                                   py::list out;
                                   for (const auto& n : g.nodes) out.append(node_dict(n));
                                   return out;
                               })
        .def_property_readonly("edges", [](const Graph& g) {
            py::list out;
            for (const auto& e : g.edges) {
                py::dict d;
                d["from"] = e.from;
                d["to"] = e.to;
                d["weight"] = e.weight;
                d["kind"] = e.kind;
                out.append(d);
            }
            return out;
        });
}

const ResultItem& item_at(const Result& r, const std::string& key) {
    if (const ResultItem* item = r.find(key)) return *item;
    std::vector<std::string> keys;
    for (const auto& i : r.items) keys.push_back(header_of(i).key);
    throw UsageError(fmt::format("{} has no item '{}' (it has: {})", r.analysis_id.empty() ? "the result" : r.analysis_id,
                                 key, fmt::join(keys, ", ")));
}

void save(const std::string& path, const std::vector<ResultObject>& results, std::shared_ptr<const Provenance> prov) {
    ResultsFile file;
    for (const auto& r : results) {
        if (!prov && r.provenance) prov = r.provenance;
        file.results.push_back(r.result);
    }
    if (prov) file.provenance = *prov;
    if (file.provenance.headscope_version.empty()) file.provenance.headscope_version = HEADSCOPE_VERSION;
    py::gil_scoped_release release;
    write_results_file(path, file);
}

std::string fspath(py::handle p) { return py::module_::import("os").attr("fspath")(p).cast<std::string>(); }

}  // namespace

py::object result_object(Result result, std::shared_ptr<const Provenance> provenance) {
    return py::cast(ResultObject{std::move(result), std::move(provenance)});
}

void bind_results(py::module_& m) {
    bind_items(m);
    py::class_<Provenance>(m, "Provenance", "Where results came from: the model file and its SHA-256, prompts, version.")
        .def_readonly("model_path", &Provenance::model_path)
        .def_readonly("model_sha256", &Provenance::model_sha256)
        .def_readonly("model_format", &Provenance::model_format)
        .def_readonly("architecture", &Provenance::architecture)
        .def_readonly("model_facts", &Provenance::model_facts)
        .def_readonly("prompts", &Provenance::prompts)
        .def_readonly("prompt_source", &Provenance::prompt_source)
        .def_readonly("headscope_version", &Provenance::headscope_version)
        .def_readonly("created_utc", &Provenance::created_utc)
        .def_readonly("command_line", &Provenance::command_line);

    py::class_<ResultObject>(m, "Result",
                             "An analysis's result: items by key, summary lines, the headline and top list (roles) that "
                             "reports open with, parameters, provenance.")
        .def(py::init([](std::vector<ResultItem> items, std::vector<std::string> summary, std::string headline) {
                 ResultObject r;
                 r.result.items = std::move(items);
                 r.result.summary = std::move(summary);
                 r.result.headline = std::move(headline);
                 return r;
             }),
             py::arg("items") = std::vector<ResultItem>{}, py::arg("summary") = std::vector<std::string>{},
             py::arg("headline") = "")
        .def_property(
            "headline", [](const ResultObject& r) { return r.result.headline; },
            [](ResultObject& r, std::string s) { r.result.headline = std::move(s); },
            "the key result in one or two sentences: the first line of the report's Findings for this analysis")
        .def_property_readonly(
            "roles",
            [](const ResultObject& r) {
                std::vector<std::tuple<std::string, std::string, std::string, double>> out;
                for (const HeadRole& x : r.result.roles) out.emplace_back(head_label(x.head), x.role, x.item, x.value);
                return out;
            },
            "the analysis's top list: (head, role, grid key, value) per head it singles out")
        .def(
            "add_role",
            [](ResultObject& r, py::handle head, const std::string& role, const std::string& item, double value) {
                const std::optional<HeadRef> h = to_head(head);
                if (!h) throw UsageError("add_role: name a head (\"L1H4\" or (1, 4))");
                r.result.roles.push_back(HeadRole{*h, role, item, value});
            },
            py::arg("head"), py::arg("role"), py::arg("item") = "", py::arg("value") = 0.0,
            "adds a head to the top list: reports list it among the heads that matter with this role")
        .def(
            "add_roles",
            [](ResultObject& r, const std::string& key, const std::string& role, size_t count, const std::string& order,
               std::optional<double> threshold, double share_of_top) {
                const HeadGrid* g = r.result.head_grid(key);
                if (!g) throw UsageError("add_roles: the result has no head grid '" + key + "'");
                const HeadOrder o = order == "highest" ? HeadOrder::highest
                                    : order == "lowest" ? HeadOrder::lowest
                                    : order == "magnitude" ? HeadOrder::magnitude
                                                           : throw UsageError("add_roles: order is highest, lowest or magnitude");
                const HeadGrid grid = *g;  // add_roles appends to r.result; keep the grid apart
                std::vector<std::pair<std::string, double>> out;
                for (const RankedHead& h : add_roles(r.result, grid, role, count, o, threshold, share_of_top))
                    out.emplace_back(head_label(h.head), h.value);
                return out;
            },
            py::arg("key"), py::arg("role"), py::arg("count") = 3, py::arg("order") = "highest",
            py::arg("threshold") = py::none(), py::arg("share_of_top") = 0.0,
            "adds the top `count` heads of the head grid `key` that pass `threshold` to the top list; returns them")
        .def_property_readonly("id", [](const ResultObject& r) { return r.result.analysis_id; })
        .def_property_readonly("title", [](const ResultObject& r) { return r.result.analysis_title; })
        .def_property_readonly("version", [](const ResultObject& r) { return r.result.analysis_version; })
        .def_property_readonly("parameters", [](const ResultObject& r) { return r.result.parameters; })
        .def_property(
            "summary", [](const ResultObject& r) { return r.result.summary; },
            [](ResultObject& r, std::vector<std::string> s) { r.result.summary = std::move(s); })
        .def_property_readonly("items", [](const ResultObject& r) { return r.result.items; })
        .def_property_readonly("error", [](const ResultObject& r) { return r.result.error; })
        .def_property_readonly("ok", [](const ResultObject& r) { return r.result.error.empty(); })
        .def_property_readonly("provenance", [](const ResultObject& r) -> py::object {
            if (!r.provenance) return py::none();
            return py::cast(*r.provenance);
        })
        .def("__getitem__", [](const ResultObject& r, const std::string& key) { return item_at(r.result, key); })
        .def("__contains__", [](const ResultObject& r, const std::string& key) { return r.result.find(key) != nullptr; })
        .def("keys",
             [](const ResultObject& r) {
                 std::vector<std::string> out;
                 for (const auto& i : r.result.items) out.push_back(header_of(i).key);
                 return out;
             })
        .def("__len__", [](const ResultObject& r) { return r.result.items.size(); })
        .def("__iter__", [](const ResultObject& r) { return py::iter(py::cast(r.result.items)); })
        .def(
            "save", [](const ResultObject& r, py::handle path) { save(fspath(path), {r}, nullptr); }, py::arg("path"),
            "writes this result to a results .h5 (atomically); headscope.report renders it")
        .def("__repr__", [](const ResultObject& r) {
            std::vector<std::string> keys;
            for (const auto& i : r.result.items) keys.push_back(header_of(i).key);
            return fmt::format("<headscope.Result {}{}: {}>", r.result.analysis_id.empty() ? "(unnamed)" : r.result.analysis_id,
                               r.result.error.empty() ? "" : " FAILED", fmt::join(keys, ", "));
        });

    py::class_<ResultsObject>(m, "Results", "The results of a results .h5 file: by position or analysis id.")
        .def_property_readonly("provenance", [](const ResultsObject& r) { return *r.provenance; })
        .def("__len__", [](const ResultsObject& r) { return r.results.size(); })
        .def("__iter__", [](const ResultsObject& r) { return py::iter(py::cast(r.results)); })
        .def("ids",
             [](const ResultsObject& r) {
                 std::vector<std::string> out;
                 for (const auto& x : r.results) out.push_back(x.result.analysis_id);
                 return out;
             })
        .def("__getitem__", [](const ResultsObject& r, py::handle key) {
            if (py::isinstance<py::int_>(key)) {
                int64_t i = key.cast<int64_t>();
                if (i < 0) i += static_cast<int64_t>(r.results.size());
                if (i < 0 || i >= static_cast<int64_t>(r.results.size())) throw py::index_error("no result at that index");
                return r.results[static_cast<size_t>(i)];
            }
            const std::string id = key.cast<std::string>();
            for (const auto& x : r.results)
                if (x.result.analysis_id == id) return x;
            throw UsageError("the file holds no result of '" + id + "'");
        });

    m.def(
        "read_results",
        [](py::handle path) {
            const std::string p = fspath(path);
            ResultsFile file;
            {
                py::gil_scoped_release release;
                file = read_results_file(p);
            }
            ResultsObject out;
            out.provenance = std::make_shared<const Provenance>(file.provenance);
            for (auto& r : file.results) out.results.push_back(ResultObject{std::move(r), out.provenance});
            return out;
        },
        py::arg("path"), "reads a results .h5 (from headscope analyze, the GUI or Result.save) back into Results");
    m.def(
        "save_results",
        [](py::handle path, const std::vector<ResultObject>& results) { save(fspath(path), results, nullptr); },
        py::arg("path"), py::arg("results"), "writes several results to one .h5 (the first one's provenance)");
}

}  // namespace headscope::python
