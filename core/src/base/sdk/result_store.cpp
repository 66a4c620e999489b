// Results <-> HDF5. Layout (readable with h5py alone):
//   /                      attrs: format, format_version, provenance fields, model_facts (JSON), prompts (JSON),
//                          card_patterns (JSON list of keys under /findings)
//   /findings/<key>        the head cards' patterns (matrix items, see below)
//   /results/<id>/_meta    int64 [1]; the group /results/<id> carries title, version,
//                          parameters (JSON), summary (JSON), error, items (JSON list of keys),
//                          headline, roles (JSON list of {head, layer, index, role, item, value})
//   /results/<id>/<key>    one float64 dataset per item, attrs kind, title, description, and for an item
//                          about one head: head ("L1H4"), head_layer, head_index (int64); + kind-specific:
//     head_grid    [layers, heads]                       scale
//     matrix       [rows, cols]                          scale, row_labels, col_labels (JSON), row_axis, col_axis
//     spectrum     [series, max_len] (NaN-padded)        series_names, lengths (JSON), x_axis, y_axis, log_y
//     token_scores [n]                                   tokens (JSON), scale
//     graph        [edges, 3] (from, to, weight)         nodes, edge_kinds (JSON)
//     table        [rows] (row index)                    columns, rows (JSON)
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "headscope/activation_store.hpp"
#include "headscope/error.hpp"
#include "headscope/sdk/result_store.hpp"
#include "json/json_file.hpp"

namespace headscope {

namespace {

using nlohmann::json;
constexpr const char* kFormat = "headscope-results";
constexpr int64_t kFormatVersion = 1;

const char* scale_name(Scale s) { return s == Scale::diverging ? "diverging" : "sequential"; }
Scale parse_scale(const std::string& s) { return s == "diverging" ? Scale::diverging : Scale::sequential; }

json cell_json(const Cell& c) {
    if (auto d = std::get_if<double>(&c)) return std::isfinite(*d) ? json(*d) : json(nullptr);
    if (auto i = std::get_if<int64_t>(&c)) return json{{"i", *i}};
    return json(std::get<std::string>(c));
}
// JSON text of a value holding user text (prompts, token labels): invalid UTF-8 becomes U+FFFD
// instead of a type_error escaping the writer.
std::string json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Cell json_cell(const json& j) {
    if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (j.is_object()) return j.at("i").get<int64_t>();
    if (j.is_string()) return j.get<std::string>();
    return j.get<double>();
}

void write_item(ActivationStoreWriter& w, const std::string& base, const ResultItem& item) {
    const ItemHeader& h = header_of(item);
    const std::string path = base + "/" + h.key;
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, HeadGrid>) {
                if (v.values.size() != static_cast<size_t>(v.layers) * static_cast<size_t>(v.heads))
                    throw UsageError(fmt::format("result item '{}': {} values for a {}x{} head grid", h.key, v.values.size(), v.layers, v.heads));
                w.write_f64(path, {v.layers, v.heads}, v.values.data());
                w.set_attribute(path, "scale", std::string(scale_name(v.scale)));
            } else if constexpr (std::is_same_v<T, Matrix>) {
                if (v.values.size() != static_cast<size_t>(v.rows) * static_cast<size_t>(v.cols))
                    throw UsageError(fmt::format("result item '{}': {} values for a {}x{} matrix", h.key, v.values.size(), v.rows, v.cols));
                w.write_f64(path, {v.rows, v.cols}, v.values.data());
                w.set_attribute(path, "scale", std::string(scale_name(v.scale)));
                w.set_attribute(path, "row_labels", json_text(json(v.row_labels)));
                w.set_attribute(path, "col_labels", json_text(json(v.col_labels)));
                w.set_attribute(path, "row_axis", v.row_axis);
                w.set_attribute(path, "col_axis", v.col_axis);
            } else if constexpr (std::is_same_v<T, Spectrum>) {
                size_t longest = 0;
                std::vector<int64_t> lengths;
                for (const auto& s : v.series) {
                    longest = std::max(longest, s.size());
                    lengths.push_back(static_cast<int64_t>(s.size()));
                }
                std::vector<double> data(v.series.size() * longest, std::numeric_limits<double>::quiet_NaN());
                for (size_t i = 0; i < v.series.size(); ++i)
                    std::copy(v.series[i].begin(), v.series[i].end(), data.begin() + static_cast<long>(i * longest));
                w.write_f64(path, {static_cast<int64_t>(v.series.size()), static_cast<int64_t>(longest)}, data.data());
                w.set_attribute(path, "series_names", json_text(json(v.series_names)));
                w.set_attribute(path, "lengths", json_text(json(lengths)));
                w.set_attribute(path, "x_axis", v.x_axis);
                w.set_attribute(path, "y_axis", v.y_axis);
                w.set_attribute(path, "log_y", static_cast<int64_t>(v.log_y));
            } else if constexpr (std::is_same_v<T, TokenScores>) {
                w.write_f64(path, {static_cast<int64_t>(v.scores.size())}, v.scores.data());
                w.set_attribute(path, "tokens", json_text(json(v.tokens)));
                w.set_attribute(path, "scale", std::string(scale_name(v.scale)));
            } else if constexpr (std::is_same_v<T, Graph>) {
                std::vector<double> edges;
                json kinds = json::array(), nodes = json::array();
                for (const auto& e : v.edges) {
                    edges.insert(edges.end(), {double(e.from), double(e.to), e.weight});
                    kinds.push_back(e.kind);
                }
                for (const auto& n : v.nodes) nodes.push_back({{"id", n.id}, {"label", n.label}, {"layer", n.layer}, {"head", n.head}});
                w.write_f64(path, {static_cast<int64_t>(v.edges.size()), 3}, edges.data());
                w.set_attribute(path, "nodes", json_text(nodes));
                w.set_attribute(path, "edge_kinds", json_text(kinds));
            } else if constexpr (std::is_same_v<T, Table>) {
                std::vector<int64_t> index(v.rows.size());
                for (size_t i = 0; i < index.size(); ++i) index[i] = static_cast<int64_t>(i);
                json rows = json::array();
                for (const auto& r : v.rows) {
                    json row = json::array();
                    for (const auto& c : r) row.push_back(cell_json(c));
                    rows.push_back(row);
                }
                w.write_i64(path, {static_cast<int64_t>(index.size())}, index.data());
                w.set_attribute(path, "columns", json_text(json(v.columns)));
                w.set_attribute(path, "rows", json_text(rows));
            }
        },
        item);
    w.set_attribute(path, "kind", std::string(kind_name(item)));
    w.set_attribute(path, "title", h.title);
    w.set_attribute(path, "description", h.description);
    if (h.appendix) w.set_attribute(path, "appendix", int64_t{1});
    if (h.head) {
        w.set_attribute(path, "head", head_label(*h.head));
        w.set_attribute(path, "head_layer", static_cast<int64_t>(h.head->layer));
        w.set_attribute(path, "head_index", static_cast<int64_t>(h.head->head));
    }
}

std::string text_attr(const std::map<std::string, AttributeValue>& attrs, const std::string& key);

// The item's head from head_layer/head_index (or its "head" label); nullopt when it has none.
std::optional<HeadRef> head_attr(const std::map<std::string, AttributeValue>& attrs, const std::string& item,
                                 const std::string& file) {
    auto l = attrs.find("head_layer"), h = attrs.find("head_index");
    if (l != attrs.end() && h != attrs.end()) {
        const int64_t* li = std::get_if<int64_t>(&l->second);
        const int64_t* hi = std::get_if<int64_t>(&h->second);
        if (!li || !hi || *li < 0 || *hi < 0)
            throw FormatError(file, fmt::format("result item '{}': head_layer/head_index must be non-negative integers", item));
        return HeadRef{static_cast<int>(*li), static_cast<int>(*hi)};
    }
    const std::string label = text_attr(attrs, "head");
    if (label.empty()) return std::nullopt;
    try {
        return parse_head(label);
    } catch (const UsageError& e) {
        throw FormatError(file, fmt::format("result item '{}': attribute head: {}", item, e.what()));
    }
}

std::string text_attr(const std::map<std::string, AttributeValue>& attrs, const std::string& key) {
    auto it = attrs.find(key);
    if (it == attrs.end()) return "";
    if (auto s = std::get_if<std::string>(&it->second)) return *s;
    if (auto i = std::get_if<int64_t>(&it->second)) return std::to_string(*i);
    return fmt::format("{}", std::get<double>(it->second));
}

json json_attr(const std::map<std::string, AttributeValue>& attrs, const std::string& key, const std::string& file) {
    std::string text = text_attr(attrs, key);
    if (text.empty()) return json();
    const std::string what = fmt::format("attribute '{}' is not valid JSON", key);
    return json_file::parse(text, file, what.c_str());
}

ResultItem read_item(const ActivationStoreReader& r, const std::string& path, const std::string& file) {
    auto a = r.attributes(path);
    const std::string kind = text_attr(a, "kind");
    DatasetInfo info = r.info(path);
    auto header = [&](ItemHeader& h) {
        h.key = path.substr(path.rfind('/') + 1);
        h.title = text_attr(a, "title");
        h.description = text_attr(a, "description");
        h.head = head_attr(a, path, file);
        h.appendix = text_attr(a, "appendix") == "1";
    };
    auto dim = [&](size_t i) { return i < info.shape.size() ? info.shape[i] : 0; };
    if (kind == "head_grid") {
        HeadGrid g;
        header(g);
        g.layers = static_cast<int>(dim(0));
        g.heads = static_cast<int>(dim(1));
        g.values = r.read_f64(path);
        g.scale = parse_scale(text_attr(a, "scale"));
        return g;
    }
    if (kind == "matrix") {
        Matrix m;
        header(m);
        m.rows = static_cast<int>(dim(0));
        m.cols = static_cast<int>(dim(1));
        m.values = r.read_f64(path);
        m.scale = parse_scale(text_attr(a, "scale"));
        m.row_labels = json_attr(a, "row_labels", file).get<std::vector<std::string>>();
        m.col_labels = json_attr(a, "col_labels", file).get<std::vector<std::string>>();
        m.row_axis = text_attr(a, "row_axis");
        m.col_axis = text_attr(a, "col_axis");
        return m;
    }
    if (kind == "spectrum") {
        Spectrum s;
        header(s);
        std::vector<double> data = r.read_f64(path);
        auto lengths = json_attr(a, "lengths", file).get<std::vector<int64_t>>();
        const int64_t width = dim(1);
        // Each series i is row i of the [series, longest] dataset, of lengths[i] values.
        if (info.shape.size() != 2 || static_cast<int64_t>(lengths.size()) > dim(0))
            throw FormatError(file, fmt::format("spectrum '{}': {} lengths for a dataset of shape [{}]", path,
                                                lengths.size(), fmt::join(info.shape, ", ")));
        for (size_t i = 0; i < lengths.size(); ++i) {
            if (lengths[i] < 0 || lengths[i] > width)
                throw FormatError(file, fmt::format("spectrum '{}': series {} has length {}, outside [0, {}]", path,
                                                    i, lengths[i], width));
            auto begin = data.begin() + static_cast<long>(static_cast<int64_t>(i) * width);
            s.series.emplace_back(begin, begin + lengths[i]);
        }
        s.series_names = json_attr(a, "series_names", file).get<std::vector<std::string>>();
        s.x_axis = text_attr(a, "x_axis");
        s.y_axis = text_attr(a, "y_axis");
        s.log_y = text_attr(a, "log_y") == "1";
        return s;
    }
    if (kind == "token_scores") {
        TokenScores t;
        header(t);
        t.scores = r.read_f64(path);
        t.tokens = json_attr(a, "tokens", file).get<std::vector<std::string>>();
        t.scale = parse_scale(text_attr(a, "scale"));
        return t;
    }
    if (kind == "graph") {
        Graph g;
        header(g);
        std::vector<double> edges = r.read_f64(path);
        json kinds = json_attr(a, "edge_kinds", file);
        for (size_t e = 0; e * 3 + 2 < edges.size() && e < kinds.size(); ++e)
            g.edges.push_back(Graph::Edge{static_cast<int>(edges[3 * e]), static_cast<int>(edges[3 * e + 1]),
                                          edges[3 * e + 2], kinds[e].get<std::string>()});
        for (const auto& n : json_attr(a, "nodes", file))
            g.nodes.push_back(Graph::Node{n.at("id").get<std::string>(), n.at("label").get<std::string>(),
                                          n.at("layer").get<int>(), n.at("head").get<int>()});
        return g;
    }
    if (kind == "table") {
        Table t;
        header(t);
        t.columns = json_attr(a, "columns", file).get<std::vector<std::string>>();
        for (const auto& row : json_attr(a, "rows", file)) {
            std::vector<Cell> cells;
            for (const auto& c : row) cells.push_back(json_cell(c));
            t.rows.push_back(std::move(cells));
        }
        return t;
    }
    throw FormatError(file, fmt::format("result item '{}' has unknown kind '{}'", path, kind));
}

}  // namespace

void write_results_file(const std::string& path, const ResultsFile& file) {
    ActivationStoreWriter w(path);
    for (const Result& r : file.results) {
        const std::string base = "/results/" + r.analysis_id;
        const int64_t one = 1;
        w.write_i64(base + "/_meta", {1}, &one);
        json keys = json::array();
        for (const auto& item : r.items) {
            write_item(w, base, item);
            keys.push_back(header_of(item).key);
        }
        w.set_attribute(base, "title", r.analysis_title);
        w.set_attribute(base, "version", r.analysis_version);
        w.set_attribute(base, "parameters", json_text(json(r.parameters)));
        w.set_attribute(base, "summary", json_text(json(r.summary)));
        w.set_attribute(base, "error", r.error);
        w.set_attribute(base, "items", json_text(keys));
        w.set_attribute(base, "headline", r.headline);
        json roles = json::array();
        for (const HeadRole& role : r.roles)
            roles.push_back({{"head", head_label(role.head)}, {"layer", role.head.layer}, {"index", role.head.head},
                             {"role", role.role}, {"item", role.item},
                             {"value", std::isfinite(role.value) ? json(role.value) : json(nullptr)}});
        w.set_attribute(base, "roles", json_text(roles));
    }
    json patterns = json::array();
    for (const Matrix& m : file.card_patterns) {
        write_item(w, "/findings", m);
        patterns.push_back(m.key);
    }
    const Provenance& p = file.provenance;
    w.set_attribute("/", "card_patterns", json_text(patterns));
    w.set_attribute("/", "format", std::string(kFormat));
    w.set_attribute("/", "format_version", kFormatVersion);
    w.set_attribute("/", "model_path", p.model_path);
    w.set_attribute("/", "model_sha256", p.model_sha256);
    w.set_attribute("/", "model_format", p.model_format);
    w.set_attribute("/", "architecture", p.architecture);
    w.set_attribute("/", "model_facts", json_text(json(p.model_facts)));
    w.set_attribute("/", "prompts", json_text(json(p.prompts)));
    w.set_attribute("/", "prompt_source", p.prompt_source);
    w.set_attribute("/", "headscope_version", p.headscope_version);
    w.set_attribute("/", "created_utc", p.created_utc);
    w.set_attribute("/", "command_line", p.command_line);
    w.set_attribute("/", "analyses", [&] {
        json ids = json::array();
        for (const auto& r : file.results) ids.push_back(r.analysis_id);
        return json_text(ids);
    }());
    w.commit();
}

ResultsFile read_results_file(const std::string& path) {
    ActivationStoreReader r(path);
    auto root = r.attributes("/");
    if (text_attr(root, "format") != kFormat)
        throw FormatError(path, "not a headscope results file (no format=headscope-results attribute; "
                                "write one with 'headscope analyze ... --out FILE.h5')");
    ResultsFile out;
    Provenance& p = out.provenance;
    p.model_path = text_attr(root, "model_path");
    p.model_sha256 = text_attr(root, "model_sha256");
    p.model_format = text_attr(root, "model_format");
    p.architecture = text_attr(root, "architecture");
    p.prompt_source = text_attr(root, "prompt_source");
    p.headscope_version = text_attr(root, "headscope_version");
    p.created_utc = text_attr(root, "created_utc");
    p.command_line = text_attr(root, "command_line");
    try {
        p.model_facts = json_attr(root, "model_facts", path).get<std::map<std::string, std::string>>();
        p.prompts = json_attr(root, "prompts", path).get<std::vector<std::string>>();
        for (const auto& id : json_attr(root, "analyses", path)) {
            Result res;
            res.analysis_id = id.get<std::string>();
            const std::string base = "/results/" + res.analysis_id;
            auto a = r.attributes(base);
            res.analysis_title = text_attr(a, "title");
            res.analysis_version = text_attr(a, "version");
            res.error = text_attr(a, "error");
            res.parameters = json_attr(a, "parameters", path).get<std::map<std::string, std::string>>();
            res.summary = json_attr(a, "summary", path).get<std::vector<std::string>>();
            for (const auto& key : json_attr(a, "items", path)) res.items.push_back(read_item(r, base + "/" + key.get<std::string>(), path));
            // Files written before reports had a Findings page have neither.
            res.headline = text_attr(a, "headline");
            for (const auto& role : json_attr(a, "roles", path)) {
                const int layer = role.at("layer").get<int>(), index = role.at("index").get<int>();
                if (layer < 0 || index < 0)
                    throw FormatError(path, fmt::format("{}: a role of head layer {} index {}", base, layer, index));
                const json& v = role.at("value");
                res.roles.push_back(HeadRole{HeadRef{layer, index}, role.at("role").get<std::string>(),
                                             role.at("item").get<std::string>(),
                                             v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>()});
            }
            out.results.push_back(std::move(res));
        }
        for (const auto& key : json_attr(root, "card_patterns", path)) {
            ResultItem item = read_item(r, "/findings/" + key.get<std::string>(), path);
            if (!std::holds_alternative<Matrix>(item))
                throw FormatError(path, fmt::format("/findings/{}: a head card's pattern must be a matrix", key.get<std::string>()));
            out.card_patterns.push_back(std::get<Matrix>(std::move(item)));
        }
    } catch (const json::exception& e) {
        throw FormatError(path, fmt::format("malformed results metadata: {}", e.what()));
    }
    return out;
}

}  // namespace headscope
