#include "headscope/head_sweep.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/hook_names.hpp"
#include "headscope/interventions.hpp"

namespace headscope {

SweepEdit SweepEdit::zero(bool final_only) { return scale(0.0, final_only); }

SweepEdit SweepEdit::set(std::function<at::Tensor(int)> z_source, bool final_only) {
    SweepEdit e;
    e.kind = Kind::set_z;
    e.z_source = std::move(z_source);
    e.final_only = final_only;
    return e;
}

SweepEdit SweepEdit::scale(double factor, bool final_only) {
    SweepEdit e;
    e.kind = Kind::scale_z;
    e.value = factor;
    e.final_only = final_only;
    return e;
}

SweepEdit SweepEdit::pattern(PatternTarget target, double strength) {
    if (target == PatternTarget::head) throw UsageError("HeadSweep: pattern:head edits are not swept");
    if (!(strength >= 0.0 && strength <= 1.0))
        throw UsageError(fmt::format("HeadSweep: pattern strength {} is outside [0, 1]", strength));
    SweepEdit e;
    e.kind = Kind::pattern;
    e.target = target;
    e.value = strength;
    return e;
}

HeadSweep::HeadSweep(HookedTransformer& model, const at::Tensor& tokens, std::vector<NamedHook> base_hooks,
                     std::vector<int64_t> positions)
    : model_(model), base_hooks_(std::move(base_hooks)), positions_(std::move(positions)) {
    torch::NoGradGuard no_grad;
    torch::Tensor t = tokens.dim() == 1 ? tokens.unsqueeze(0) : tokens;
    if (t.dim() != 2 || t.size(0) == 0 || t.size(1) == 0)
        throw UsageError("HeadSweep: tokens must be [prompts, pos] with at least one prompt and position");
    N_ = t.size(0);
    T_ = t.size(1);
    if (positions_.empty())
        for (int64_t p = 0; p < T_; ++p) positions_.push_back(p);
    // hook_z as the base run left it (base hooks applied): z edits resume there (run_from_z).
    CachedRun run = model_.run_with_cache(t, {"blocks.*.hook_resid_pre", "blocks.*.attn.hook_z"}, base_hooks_);
    const int L = model_.config().n_layers;
    for (int l = 0; l < L; ++l) {
        resid_pre_.push_back(run.cache.at(hook_name(HookKey{HookSite::resid_pre, l})));
        z_.push_back(run.cache.at(hook_name(HookKey{HookSite::attn_z, l})));
    }
    std::vector<int64_t> index;
    for (int64_t p : positions_) {
        const int64_t q = p < 0 ? p + T_ : p;
        if (q < 0 || q >= T_) throw UsageError(fmt::format("HeadSweep: position {} is outside the {} positions", p, T_));
        index.push_back(q);
    }
    base_logits_ = run.logits.index_select(1, torch::tensor(index, torch::kLong).to(run.logits.device()));
}

HeadSweep::~HeadSweep() = default;

int64_t HeadSweep::candidates_per_pass() const {
    const ModelConfig& c = model_.config();
    const int64_t P = static_cast<int64_t>(positions_.size());
    // Live floats of one row: the layer's activations and the scored logits (~2^25 floats a pass).
    const int64_t per_row = T_ * (8LL * c.d_model + 3LL * c.d_mlp + 2LL * c.n_heads * T_ + 3LL * c.n_heads * c.d_head) +
                            P * static_cast<int64_t>(c.d_vocab);
    const int64_t rows = std::max<int64_t>(1, (int64_t{1} << 25) / std::max<int64_t>(per_row, 1));
    return std::max<int64_t>(1, rows / N_);
}

namespace {

// Per-row mask of the heads edited: row r = candidate (r / N) edits heads_of[r / N].
torch::Tensor row_head_mask(const std::vector<int>& heads_of, int64_t N, int64_t H, std::vector<int64_t> shape,
                            int head_axis, const torch::Device& device) {
    const int64_t c = static_cast<int64_t>(heads_of.size());
    std::vector<uint8_t> hit(static_cast<size_t>(c * N * H), 0);
    for (int64_t i = 0; i < c; ++i)
        for (int64_t n = 0; n < N; ++n) hit[static_cast<size_t>((i * N + n) * H + heads_of[static_cast<size_t>(i)])] = 1;
    torch::Tensor flat = torch::tensor(std::vector<int64_t>(hit.begin(), hit.end()), torch::kLong).to(torch::kBool);
    shape[0] = c * N;
    shape[static_cast<size_t>(head_axis)] = H;
    return flat.view(shape).to(device);
}

// The z source of a set_z edit for layer `layer`, repeated for c candidates of N prompts.
torch::Tensor z_source_rows(int layer, const SweepEdit& edit, int64_t c, int64_t N) {
    if (!edit.z_source) throw UsageError("HeadSweep: set_z needs a z source");
    torch::Tensor source = edit.z_source(layer).detach();
    if (source.dim() == 3) source = source.unsqueeze(0);
    if (source.dim() != 4 || (source.size(0) != 1 && source.size(0) != N))
        throw UsageError(fmt::format("HeadSweep: the z source of layer {} must be [1 or {}, pos, heads, d_head]", layer, N));
    if (source.size(0) == N && N > 1) source = source.repeat({c, 1, 1, 1});
    return source;
}

// z [c*N, T, H, d_head] with candidate i's edit on its head heads_of[i].
torch::Tensor edit_z(const torch::Tensor& z, const std::vector<int>& heads_of, int64_t N, const SweepEdit& edit,
                     const torch::Tensor& source) {
    torch::Tensor mask = row_head_mask(heads_of, N, z.size(2), {0, 1, 0, 1}, 2, z.device());
    if (edit.final_only) {
        torch::Tensor last = torch::zeros({1, z.size(1), 1, 1}, torch::TensorOptions().dtype(torch::kBool));
        last[0][z.size(1) - 1] = true;
        mask = mask.logical_and(last.to(z.device()));
    }
    if (edit.kind == SweepEdit::Kind::scale_z) return torch::where(mask, z * edit.value, z);
    return torch::where(mask, source.to(z.device(), z.scalar_type()), z);
}

NamedHook pattern_hook(int layer, const std::vector<int>& heads_of, int64_t N, const SweepEdit& edit) {
    return {hook_name(HookKey{HookSite::attn_pattern, layer}),
            [heads_of, N, edit](const at::Tensor& A, const HookPoint&) -> std::optional<at::Tensor> {
                torch::Tensor mask = row_head_mask(heads_of, N, A.size(1), {0, 0, 1, 1}, 1, A.device());
                torch::Tensor target = target_pattern(edit.target, A.size(2), A.options());
                return torch::where(mask, A * (1.0 - edit.value) + target * edit.value, A);
            }};
}

}  // namespace

void HeadSweep::run(const std::vector<HeadRef>& heads, const SweepEdit& edit, const ChunkScorer& score,
                    const std::function<void()>& check_cancelled) {
    torch::NoGradGuard no_grad;
    const ModelConfig& cfg = model_.config();
    std::map<int, std::vector<size_t>> by_layer;  // layer -> indices into heads
    for (size_t i = 0; i < heads.size(); ++i) {
        const HeadRef& h = heads[i];
        if (h.layer < 0 || h.layer >= cfg.n_layers || h.head < 0 || h.head >= cfg.n_heads)
            throw UsageError(fmt::format("HeadSweep: head {} does not exist", head_label(h)));
        by_layer[h.layer].push_back(i);
    }
    HookScope scope;
    for (const auto& h : base_hooks_) scope.add(model_.add_hook(h.name_or_glob, h.fn));
    const int64_t per_pass = candidates_per_pass();
    for (const auto& [layer, members] : by_layer) {
        for (size_t start = 0; start < members.size(); start += static_cast<size_t>(per_pass)) {
            if (check_cancelled) check_cancelled();
            const size_t c = std::min(members.size() - start, static_cast<size_t>(per_pass));
            std::vector<int> heads_of;
            for (size_t j = 0; j < c; ++j) heads_of.push_back(heads[members[start + j]].head);
            const torch::Tensor& resid = resid_pre_[static_cast<size_t>(layer)];
            const int64_t rows = static_cast<int64_t>(c);
            torch::Tensor x = resid.repeat({rows, 1, 1});
            torch::Tensor logits;
            if (edit.kind == SweepEdit::Kind::pattern) {
                const NamedHook h = pattern_hook(layer, heads_of, N_, edit);
                HookHandle edit_handle = model_.add_hook(h.name_or_glob, h.fn);
                logits = model_.run_from_layer(layer, x, positions_);
            } else {
                // A z edit leaves layer l's queries, keys, values and patterns as the base run had
                // them: resume after hook_z with the edited z.
                const torch::Tensor source =
                    edit.kind == SweepEdit::Kind::set_z ? z_source_rows(layer, edit, rows, N_) : torch::Tensor();
                const torch::Tensor z = edit_z(z_[static_cast<size_t>(layer)].repeat({rows, 1, 1, 1}), heads_of, N_, edit, source);
                logits = model_.run_from_z(layer, x, z, positions_);
            }
            logits = logits.view({static_cast<int64_t>(c), N_, logits.size(1), logits.size(2)});
            // Consecutive members of one layer are consecutive in heads when heads are layer-sorted;
            // otherwise score one candidate at a time so `first` is always an index into heads.
            bool contiguous = true;
            for (size_t j = 1; j < c; ++j) contiguous &= members[start + j] == members[start] + j;
            if (contiguous) {
                score(members[start], logits);
            } else {
                for (size_t j = 0; j < c; ++j) score(members[start + j], logits.narrow(0, static_cast<int64_t>(j), 1));
            }
        }
    }
}

}  // namespace headscope
