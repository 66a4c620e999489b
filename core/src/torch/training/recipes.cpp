// induction-2l and tiny-world: shapes, optimizer settings, tokenizer and data.
#include "training/recipes.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/seeded_rng.hpp"
#include "headscope/tutorial_tasks.hpp"

namespace headscope::training {

namespace {

ModelConfig llama_shape(int layers, int d_model, int heads, int kv_heads, int d_mlp, int n_ctx) {
    ModelConfig c;
    c.architecture = Architecture::llama;
    c.model_type = "llama";
    c.n_layers = layers;
    c.d_model = d_model;
    c.n_heads = heads;
    c.n_kv_heads = kv_heads;
    c.d_head = d_model / heads;
    c.d_mlp = d_mlp;
    c.n_ctx = n_ctx;
    c.norm = NormKind::rms;
    c.norm_eps = 1e-5;
    c.positions = PositionKind::rotary;
    c.rope_theta = 10000.0;
    c.rotary_dim = c.d_head;
    c.rotary_style = RotaryStyle::half;
    c.gated_mlp = true;
    c.activation = Activation::silu;
    c.tied_embeddings = false;
    return c;
}

// Rows of BOS + skip-bigram triples (a quarter, see below) or blocks [seg, gap, seg]: a segment
// of distinct random lexicon tokens (half of them 4-24 long, half up to half the row), an
// optional gap of 1-3 random tokens, then the same segment again (the classic repeated random
// tokens of the induction-head literature). Every position carries loss: on a first occurrence
// the best a model can do is the unigram distribution, on a repeat it can copy with an induction
// head. Mixed segment lengths and gaps keep a fixed-offset shortcut from paying off.
class InductionBatches : public BatchSource {
public:
    InductionBatches(const Recipe& r, const Tokenizer& tok, uint64_t seed)
        : rng_(seed), batch_(r.batch_size), len_(r.seq_len), bos_(tok.bos_id()), pool_(lexicon_token_ids(tok)) {
        SeededRng g(0x5C1Bu);  // a fixed permutation of the pool for the skip-bigram rows
        skip_ = std::vector<int64_t>(pool_.begin(), pool_.end());
        g.shuffle(skip_);
    }

    Batch next() override {
        std::vector<int64_t> data;
        data.reserve(static_cast<size_t>(batch_ * (len_ + 1)));
        for (int64_t b = 0; b < batch_; ++b) {
            std::vector<int64_t> row{bos_};
            // A quarter of the rows are skip-bigram triples (a, r, skip(a)), r random: predicting
            // skip(a) needs the previous token, a direct training signal for previous-token heads,
            // which an induction head then reuses through K-composition.
            const bool skip_row = rng_.chance(0.25);
            while (skip_row && static_cast<int64_t>(row.size()) < len_ + 1) {
                const size_t a = static_cast<size_t>(rng_.below(pool_.size()));
                row.push_back(pool_[a]);
                row.push_back(rng_.pick(pool_));
                row.push_back(skip_[a]);
            }
            while (static_cast<int64_t>(row.size()) < len_ + 1) {
                // Half the segments short (4-24 tokens), half up to the row's half, so that induction
                // works at every offset up to the context (head_detectors repeats 50 tokens).
                const int longest = rng_.chance(0.5) ? 24 : static_cast<int>(len_ / 2) - 2;
                const size_t L = static_cast<size_t>(rng_.range(4, std::max(4, std::min<int>(longest, static_cast<int>(len_ / 2) - 2))));
                std::vector<int64_t> seg;
                for (size_t i : rng_.distinct(pool_.size(), L)) seg.push_back(pool_[i]);
                row.insert(row.end(), seg.begin(), seg.end());
                const int gap = rng_.chance(0.5) ? 0 : rng_.range(1, 3);
                for (int i = 0; i < gap; ++i) row.push_back(rng_.pick(pool_));
                row.insert(row.end(), seg.begin(), seg.end());
            }
            row.resize(static_cast<size_t>(len_ + 1));
            data.insert(data.end(), row.begin(), row.end());
        }
        torch::Tensor all = torch::tensor(data, torch::kLong).view({batch_, len_ + 1});
        return {all.narrow(1, 0, len_).contiguous(), all.narrow(1, 1, len_).contiguous(), batch_ * len_};
    }

private:
    SeededRng rng_;
    int64_t batch_, len_;
    int64_t bos_;
    std::vector<int32_t> pool_;
    std::vector<int64_t> skip_;
};

// One tiny-world document per row (BOS + text), padded to the longest row of the batch.
class TinyWorldBatches : public BatchSource {
public:
    TinyWorldBatches(const Recipe& r, const Tokenizer& tok, uint64_t seed)
        : corpus_(seed), tok_(tok), batch_(r.batch_size), cap_(r.seq_len) {}

    Batch next() override {
        std::vector<std::vector<int32_t>> rows;
        size_t longest = 0;
        for (int64_t b = 0; b < batch_; ++b) {
            std::vector<int32_t> ids = tok_.encode(corpus_.next_document(), true).ids;
            if (static_cast<int64_t>(ids.size()) > cap_ + 1) ids.resize(static_cast<size_t>(cap_ + 1));
            longest = std::max(longest, ids.size());
            rows.push_back(std::move(ids));
        }
        const int64_t T = static_cast<int64_t>(longest) - 1;
        torch::Tensor tokens = torch::full({batch_, T}, static_cast<int64_t>(tok_.bos_id()), torch::kLong);
        torch::Tensor targets = torch::full({batch_, T}, static_cast<int64_t>(-100), torch::kLong);
        auto tk = tokens.accessor<int64_t, 2>();
        auto tg = targets.accessor<int64_t, 2>();
        int64_t count = 0;
        for (int64_t b = 0; b < batch_; ++b) {
            const auto& ids = rows[static_cast<size_t>(b)];
            for (size_t i = 0; i + 1 < ids.size(); ++i) {
                tk[b][static_cast<int64_t>(i)] = ids[i];
                tg[b][static_cast<int64_t>(i)] = ids[i + 1];
                ++count;
            }
        }
        return {tokens, targets, count};
    }

private:
    tutorial::TinyWorldCorpus corpus_;
    const Tokenizer& tok_;
    int64_t batch_, cap_;
};

}  // namespace

Recipe make_recipe(const std::string& name, bool tiny) {
    Recipe r;
    r.name = name;
    if (name == "induction-2l") {
        r.description = "2-layer attention-only transformer (Llama layout, MLPs zero and frozen) trained on random "
                        "token sequences with repeated segments: previous-token and induction heads";
        r.config = tiny ? llama_shape(2, 32, 4, 4, 8, 64) : llama_shape(2, 128, 4, 4, 16, 128);
        r.steps = tiny ? 40 : 13000;  // the committed model: 4000 + 6000 + 3000 steps (see its README)
        r.batch_size = tiny ? 8 : 32;
        r.seq_len = tiny ? 32 : 128;
        r.lr = 3e-3;
        r.warmup_steps = tiny ? 5 : 200;
        r.weight_decay = 0.01;
        r.frozen_zero_mlp = true;
        r.shared_embedding = 1.0;
        r.eval_tasks = {"induction"};
    } else if (name == "tiny-world") {
        r.description = "4-layer Llama (GQA 8 query / 4 kv heads) trained on the generated tiny-world corpus: IOI, "
                        "laundry lists, memorised capitals with in-context overrides, repeated words, plain sentences";
        r.config = tiny ? llama_shape(2, 32, 4, 2, 64, 128) : llama_shape(4, 128, 8, 4, 384, 128);
        r.steps = tiny ? 40 : 3500;
        r.batch_size = tiny ? 8 : 48;
        r.seq_len = 96;
        r.lr = tiny ? 3e-3 : 2e-3;
        r.warmup_steps = tiny ? 5 : 150;
        r.weight_decay = 0.05;
        r.eval_tasks = {"ioi", "laundry_list", "capitals", "capitals_counterfactual", "induction"};
    } else {
        throw UsageError(fmt::format("unknown recipe '{}' (known: induction-2l, tiny-world)", name));
    }
    r.config.name = "headscope/" + name;
    return r;
}

TrainedBpe train_tutorial_tokenizer(uint64_t seed) {
    BpeTrainer trainer;
    tutorial::TinyWorldCorpus corpus(seed ^ 0x70C3u);
    for (int i = 0; i < 20000; ++i) trainer.add_text(corpus.next_document());
    for (const std::string& w : tutorial::lexicon()) trainer.add_piece(" " + w);
    return trainer.train();
}

std::vector<int32_t> lexicon_token_ids(const Tokenizer& tokenizer) {
    std::vector<int32_t> ids;
    for (const std::string& w : tutorial::lexicon()) {
        std::vector<int32_t> t = tokenizer.encode(" " + w, false).ids;
        if (t.size() == 1) ids.push_back(t[0]);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.size() < 32) throw UsageError("the tokenizer has fewer than 32 single-token lexicon words");
    return ids;
}

std::unique_ptr<BatchSource> make_batch_source(const Recipe& recipe, const Tokenizer& tokenizer, uint64_t seed) {
    if (recipe.name == "induction-2l") return std::make_unique<InductionBatches>(recipe, tokenizer, seed);
    return std::make_unique<TinyWorldBatches>(recipe, tokenizer, seed);
}

}  // namespace headscope::training
