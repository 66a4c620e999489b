// corpus_influence (AttentionInfluence): score every document of a corpus by how much its mean
// next-token loss rises when chosen heads are masked (z := 0) — by default the top retrieval heads
// by head_detectors' induction score (or the OV copying score) — and rank the documents by the
// relative increase. The corpus is streamed; each document's result is appended to a checkpoint
// as it finishes, so a killed or interrupted run restarted with the same checkpoint continues
// where it stopped. Memory stays bounded: only the `table_rows` best documents are kept.
#include <torch/torch.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <numeric>
#include <queue>
#include <set>

#include "corpus_influence/corpus_reader.hpp"
#include "corpus_influence/influence_checkpoint.hpp"
#include "head_detectors/pattern_scores.hpp"
#include "head_detectors/repeated_tokens.hpp"
#include "headscope/factored_matrix.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/interventions.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/result_helpers.hpp"

namespace headscope {

namespace {

using influence::CorpusDocument;
using influence::CorpusReader;
using influence::DocumentScore;
using influence::InfluenceCheckpoint;

constexpr size_t kPreviewChars = 160;

// Per head, the score heads are chosen by: induction (attention to the token after an earlier
// occurrence, on BOS + R random tokens + the same R) or the OV copying score.
std::vector<double> detector_scores(AnalysisContext& ctx, const std::string& detector) {
    torch::NoGradGuard no_grad;
    const ModelConfig& c = ctx.config();
    const int L = c.n_layers, H = c.n_heads;
    std::vector<double> out;
    if (detector == "induction") {
        const int64_t R = std::max<int64_t>(2, std::min<int64_t>(50, (c.n_ctx - 1) / 2));
        const at::Tensor tokens =
            detectors::random_repeated_tokens(ctx.model, ctx.tokenizer, R, 4, 0, true, "corpus_influence");
        CachedRun run = ctx.model.run_with_cache(tokens, {"blocks.*.attn.hook_pattern"});
        for (int l = 0; l < L; ++l) {
            const detectors::PatternScores s = detectors::pattern_scores(tokens, run.cache.at(HookSite::attn_pattern, l));
            const at::Tensor v = (s.sum[detectors::kInduction] / s.count[detectors::kInduction].clamp_min(1)).contiguous();
            out.insert(out.end(), v.data_ptr<double>(), v.data_ptr<double>() + H);
        }
        return out;
    }
    // Copying: Σ Re λ / Σ |λ| over the eigenvalues λ of W_E·OV·W_U (see qk_ov_svd).
    const ModelWeights& w = ctx.model.weights();
    const at::Tensor unembed_embed = at::matmul(w.W_U.to(at::kDouble), w.W_E.to(at::kDouble));
    for (int l = 0; l < L; ++l) {
        const at::Tensor eig = ov_circuit(ctx.model, l).to(at::kDouble).sandwiched_eigenvalues(unembed_embed);
        const at::Tensor v = (at::real(eig).sum(-1) / eig.abs().sum(-1).clamp_min(1e-300)).contiguous();
        out.insert(out.end(), v.data_ptr<double>(), v.data_ptr<double>() + H);
    }
    return out;
}

// Mean next-token loss (nats) of a [1, T] sequence from its logits [1, T, V].
double mean_loss(const at::Tensor& logits, const at::Tensor& tokens) {
    const int64_t T = tokens.size(1);
    const at::Tensor lp = torch::log_softmax(logits[0].narrow(0, 0, T - 1).to(torch::kDouble), -1);
    return -lp.gather(1, tokens[0].narrow(0, 1, T - 1).unsqueeze(1)).mean().item<double>();
}

std::string preview_of(const std::string& text) {
    std::string p = text.substr(0, kPreviewChars);
    while (!p.empty() && (static_cast<unsigned char>(p.back()) & 0xC0) == 0x80) p.pop_back();  // no torn UTF-8 tail
    if (!p.empty() && (static_cast<unsigned char>(p.back()) & 0x80)) p.pop_back();
    for (char& ch : p)
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    return p;
}

std::string duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e8) return "?";
    const int64_t s = static_cast<int64_t>(seconds + 0.5);
    if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s / 60) % 60);
    if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

// Keeps the `capacity` documents with the largest relative increase (ties: earlier first).
class TopDocuments {
public:
    explicit TopDocuments(size_t capacity) : capacity_(capacity) {}
    void add(const DocumentScore& s) {
        if (s.skipped || capacity_ == 0) return;
        heap_.push(s);
        if (heap_.size() > capacity_) heap_.pop();
    }
    std::vector<DocumentScore> ranked() const {
        auto copy = heap_;
        std::vector<DocumentScore> out;
        for (; !copy.empty(); copy.pop()) out.push_back(copy.top());
        std::reverse(out.begin(), out.end());
        return out;
    }

private:
    struct Worse {  // the heap's top is the weakest kept document
        bool operator()(const DocumentScore& a, const DocumentScore& b) const {
            const double ra = a.relative_increase(), rb = b.relative_increase();
            return ra != rb ? ra > rb : a.index < b.index;
        }
    };
    size_t capacity_;
    std::priority_queue<DocumentScore, std::vector<DocumentScore>, Worse> heap_;
};

class CorpusInfluence : public Analysis {
public:
    std::string id() const override { return "corpus_influence"; }
    std::string title() const override { return "Corpus influence (AttentionInfluence)"; }
    std::string version() const override { return "1.0"; }
    std::string description() const override {
        return "Scores every document of a corpus (a JSONL file with a \"text\" field per line, or a directory of .txt "
               "files; streamed, any size) by its mean next-token loss with and without a head mask (z := 0 for the "
               "heads given, or for the top_n retrieval heads by induction or OV copying score), and ranks the "
               "documents by relative loss increase (AttentionInfluence). Each document's result is appended to the "
               "checkpoint as it finishes: a killed run restarted with the same checkpoint (headscope analyze: the "
               "same --out) continues where it stopped. The top documents are also written as JSONL.";
    }
    std::vector<ParamSpec> parameters() const override {
        return {
            ParamSpec::text("corpus", "", "a JSONL file with a \"text\" string per line, or a directory of .txt files"),
            ParamSpec::heads("heads", "", "heads to mask (e.g. L1H0,L1H2); empty: the top_n heads by the detector"),
            ParamSpec::choice("detector", "induction", {"induction", "copying"},
                              "how heads are chosen when none are given: induction score (random repeated sequences, "
                              "as head_detectors) or OV copying score (as qk_ov_svd)"),
            ParamSpec::integer("top_n", 3, "retrieval heads masked when none are given", 1, 10000),
            ParamSpec::integer("max_tokens", 512, "tokens scored per document (with BOS; also capped by the model's "
                                                  "context), the rest is cut off", 2, 1e9),
            ParamSpec::integer("min_tokens", 8, "documents with fewer tokens are skipped", 2, 1e9),
            ParamSpec::integer("max_documents", 0, "stop after this many documents (0: the whole corpus)", 0, 9e15),
            ParamSpec::integer("table_rows", 1000, "documents kept in the ranked table (the best first)", 1, 1e7),
            ParamSpec::integer("top_documents", 20, "documents written to the top-documents JSONL", 0, 1e6),
            ParamSpec::text("checkpoint", "",
                            "per-document results, appended as the run goes (JSONL); a run with the same checkpoint "
                            "resumes. headscope analyze sets OUT.corpus_influence.checkpoint.jsonl; empty: none"),
            ParamSpec::text("top_jsonl", "",
                            "where the top documents go (JSONL with their text); empty: next to the checkpoint "
                            "(….top.jsonl), or nowhere without one"),
        };
    }
    bool needs_prompts() const override { return false; }
    Result run(AnalysisContext& ctx) override;
};

Result CorpusInfluence::run(AnalysisContext& ctx) {
    torch::NoGradGuard no_grad;
    const ModelConfig& c = ctx.config();
    const int L = c.n_layers, H = c.n_heads;
    const std::string corpus = ctx.params.get_text("corpus");
    if (corpus.empty())
        throw UsageError("corpus_influence.corpus: name the corpus, e.g. --set corpus_influence.corpus=docs.jsonl (a JSONL "
                         "file with a \"text\" field, or a directory of .txt files)");
    CorpusReader reader(corpus);

    // The heads to mask.
    std::vector<HeadRef> heads = ctx.params.get_heads("heads");
    std::vector<double> selection;
    const std::string detector = ctx.params.get_text("detector");
    if (heads.empty()) {
        ctx.step(0.0, detector + " scores");
        selection = detector_scores(ctx, detector);
        std::vector<size_t> order(selection.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return selection[a] > selection[b]; });
        for (size_t i = 0; i < order.size() && i < static_cast<size_t>(ctx.params.get_int("top_n")); ++i)
            heads.push_back(HeadRef{static_cast<int>(order[i]) / H, static_cast<int>(order[i]) % H});
    }
    std::vector<HeadIntervention> edits;
    std::vector<double> mask_grid(static_cast<size_t>(L * H), 0.0);
    std::vector<std::string> labels;
    for (const HeadRef& h : heads) {
        if (h.layer < 0 || h.layer >= L || h.head < 0 || h.head >= H)
            throw UsageError(fmt::format("corpus_influence.heads: head {} does not exist (layers 0..{}, heads 0..{})",
                                         head_label(h), L - 1, H - 1));
        HeadIntervention zero;
        zero.layer = h.layer;
        zero.head = h.head;
        zero.mode = InterventionMode::zero;
        edits.push_back(zero);
        mask_grid[static_cast<size_t>(h.layer * H + h.head)] = 1.0;
        labels.push_back(head_label(h));
    }
    const std::vector<NamedHook> mask = head_interventions(edits);
    const std::string heads_text = fmt::format("{}", fmt::join(labels, ","));

    const int64_t max_tokens = std::min<int64_t>(ctx.params.get_int("max_tokens"), c.n_ctx > 0 ? c.n_ctx : INT64_MAX);
    const int64_t min_tokens = ctx.params.get_int("min_tokens");
    const int64_t max_documents = ctx.params.get_int("max_documents");
    const std::string checkpoint_path = ctx.params.get_text("checkpoint");
    const nlohmann::ordered_json header{{"headscope_corpus_influence", 1},
                                        {"corpus", corpus},
                                        {"heads", heads_text},
                                        {"max_tokens", max_tokens},
                                        {"min_tokens", min_tokens},
                                        {"model", fmt::format("{} layers x {} heads, d_model {}, vocab {}", L, H,
                                                              c.d_model, c.d_vocab)}};

    TopDocuments table(static_cast<size_t>(ctx.params.get_int("table_rows")));
    int64_t scored = 0, skipped = 0;
    double sum_loss = 0, sum_masked = 0, sum_relative = 0;
    auto record = [&](const DocumentScore& s) {
        if (s.skipped) {
            ++skipped;
            return;
        }
        ++scored;
        sum_loss += s.loss, sum_masked += s.masked_loss, sum_relative += s.relative_increase();
        table.add(s);
    };
    InfluenceCheckpoint checkpoint(checkpoint_path, header.dump(), record);
    const int64_t resumed = checkpoint.resumed();

    const bool bos = ctx.tokenizer.bos_id() >= 0;
    const auto start = std::chrono::steady_clock::now();
    double start_fraction = -1;
    CorpusDocument doc;
    int64_t seen = 0;
    while ((max_documents == 0 || seen < max_documents) && reader.next(doc)) {
        ++seen;
        if (doc.index < resumed) continue;  // scored by an earlier run
        if (start_fraction < 0) start_fraction = reader.fraction();
        DocumentScore s;
        s.index = doc.index;
        s.id = doc.id;
        std::vector<int32_t> ids = ctx.tokenizer.encode(doc.text, bos).ids;
        if (static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<size_t>(max_tokens));
        if (static_cast<int64_t>(ids.size()) < min_tokens) {
            s.skipped = true;
        } else {
            const at::Tensor tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
            s.tokens = static_cast<int64_t>(ids.size());
            s.loss = mean_loss(ctx.model.forward(tokens), tokens);
            s.masked_loss = mean_loss(ctx.model.run_with_hooks(tokens, mask), tokens);
            s.preview = preview_of(doc.text);
        }
        checkpoint.append(s);
        record(s);
        const double fraction = reader.fraction();
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double done = fraction - start_fraction;
        const double eta = done > 0 ? elapsed * (1.0 - fraction) / done : -1;
        ctx.step(fraction, fmt::format("doc {} · {:.1f} doc/s · ETA {}", doc.index + 1,
                                       static_cast<double>(doc.index + 1 - resumed) / std::max(elapsed, 1e-9),
                                       duration(eta)));
    }
    if (scored == 0)
        throw UsageError(fmt::format("corpus_influence: {} holds no document of at least {} tokens ({} skipped)", corpus,
                                     min_tokens, skipped));

    const std::vector<DocumentScore> ranked = table.ranked();
    Table ranked_table;
    ranked_table.key = "ranked_documents";
    ranked_table.title = "Documents ranked by relative loss increase";
    ranked_table.description = fmt::format("Mean next-token loss of each document with and without masking {} (z := 0), "
                                           "ranked by (masked − clean) / clean; the best {} of {} scored document(s).",
                                           heads_text, ranked.size(), scored);
    ranked_table.columns = {"rank", "document", "id", "tokens", "loss", "masked_loss", "loss_increase",
                            "relative_increase", "preview"};
    for (size_t r = 0; r < ranked.size(); ++r) {
        const DocumentScore& s = ranked[r];
        ranked_table.rows.push_back({static_cast<int64_t>(r + 1), s.index, s.id, s.tokens, s.loss, s.masked_loss,
                                     s.masked_loss - s.loss, s.relative_increase(), s.preview});
    }

    // The top documents with their full text: one more streaming pass picks them out.
    std::string top_path = ctx.params.get_text("top_jsonl");
    const std::string suffix = ".checkpoint.jsonl";
    if (top_path.empty() && !checkpoint_path.empty())
        top_path = (checkpoint_path.size() > suffix.size() &&
                            checkpoint_path.compare(checkpoint_path.size() - suffix.size(), suffix.size(), suffix) == 0
                        ? checkpoint_path.substr(0, checkpoint_path.size() - suffix.size())
                        : checkpoint_path) +
                   ".top.jsonl";
    const size_t n_top = std::min<size_t>(static_cast<size_t>(ctx.params.get_int("top_documents")), ranked.size());
    if (!top_path.empty() && n_top > 0) {
        std::map<int64_t, size_t> wanted;  // document index -> rank
        for (size_t r = 0; r < n_top; ++r) wanted[ranked[r].index] = r;
        std::vector<std::string> lines(n_top);
        CorpusReader again(corpus);
        while (again.next(doc) && doc.index <= wanted.rbegin()->first) {
            auto it = wanted.find(doc.index);
            if (it == wanted.end()) continue;
            const DocumentScore& s = ranked[it->second];
            nlohmann::ordered_json j{{"rank", it->second + 1}, {"document", s.index}, {"id", s.id},
                                     {"relative_increase", s.relative_increase()}, {"loss", s.loss},
                                     {"masked_loss", s.masked_loss}, {"tokens", s.tokens}, {"text", doc.text}};
            lines[it->second] = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
        const std::string tmp = top_path + ".tmp";
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out) throw IoError(fmt::format("{}: cannot write the top documents", tmp));
            for (const auto& line : lines) out << line << "\n";
            if (!out.flush()) throw IoError(fmt::format("{}: write failed", tmp));
        }
        if (std::rename(tmp.c_str(), top_path.c_str()) != 0)
            throw IoError(fmt::format("{}: cannot move the top documents into place", top_path));
    }

    Result result;
    const double n = static_cast<double>(scored);
    result.summary.push_back(fmt::format("masked {}{}; {} document(s) scored, {} skipped (< {} tokens){}", heads_text,
                                         selection.empty() ? "" : fmt::format(" (top {} by {} score)", heads.size(), detector),
                                         scored, skipped, min_tokens,
                                         resumed ? fmt::format(", {} resumed from {}", resumed, checkpoint_path) : ""));
    result.summary.push_back(fmt::format("mean loss {:.4f} -> {:.4f} nats; mean relative increase {:+.2f}%", sum_loss / n,
                                         sum_masked / n, 100 * sum_relative / n));
    for (size_t r = 0; r < ranked.size() && r < 3; ++r)
        result.summary.push_back(fmt::format("#{} {:+.2f}% {}: {:.60}", r + 1, 100 * ranked[r].relative_increase(), ranked[r].id,
                                             ranked[r].preview));
    if (!top_path.empty() && n_top > 0) result.summary.push_back(fmt::format("top {} document(s): {}", n_top, top_path));

    result.items.push_back(std::move(ranked_table));
    result.items.push_back(make_head_grid("masked_heads", "Masked heads", "1 for the heads whose z is zeroed.", L, H,
                                          std::move(mask_grid)));
    if (!selection.empty())
        result.items.push_back(make_head_grid(
            "selection_score", detector == "induction" ? "Induction score" : "OV copying score",
            "The score the masked heads were chosen by (the top_n highest).", L, H, std::move(selection),
            detector == "induction" ? Scale::sequential : Scale::diverging));
    Table totals;
    totals.key = "totals";
    totals.title = "Corpus totals";
    totals.description = "Means over the scored documents.";
    totals.columns = {"quantity", "value"};
    totals.rows = {{std::string("documents scored"), scored},
                   {std::string("documents skipped"), skipped},
                   {std::string("mean loss"), sum_loss / n},
                   {std::string("mean masked loss"), sum_masked / n},
                   {std::string("mean relative increase"), sum_relative / n}};
    result.items.push_back(std::move(totals));
    ctx.step(1.0, "done");
    return result;
}

}  // namespace

void register_corpus_influence(AnalysisRegistry& registry) {
    registry.add([] { return std::make_unique<CorpusInfluence>(); });
}

}  // namespace headscope
