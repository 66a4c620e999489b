#include "headscope/intervention_spec.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "headscope/error.hpp"

namespace headscope {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// A finite number that is the whole of s.
bool parse_number(std::string_view s, double& out) {
    const std::string text(trim(s));
    if (text.empty()) return false;
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && std::isfinite(out);
}

// Parses the argument of one edit kind (what follows "kind:" or nothing) into `edit`; returns
// an error text, empty on success.
using ArgParser = std::string (*)(std::string_view arg, bool has_arg, HeadEdit& edit);

std::string parse_zero(std::string_view, bool has_arg, HeadEdit&) {
    return has_arg ? "zero takes no argument" : "";
}

std::string parse_scale(std::string_view arg, bool has_arg, HeadEdit& e) {
    if (!has_arg || !parse_number(arg, e.value)) return "scale needs a finite factor, e.g. scale:1.5";
    return "";
}

struct TargetEntry {
    const char* name;
    PatternTarget target;
    bool takes_head;
};
// The pattern targets; add a new one here (and in make_pattern_target, edit_hooks.cpp).
constexpr TargetEntry kPatternTargets[] = {
    {"uniform", PatternTarget::uniform, false},
    {"identity", PatternTarget::identity, false},
    {"previous", PatternTarget::previous, false},
    {"head", PatternTarget::head, true},
};

std::string parse_pattern(std::string_view arg, bool has_arg, HeadEdit& e) {
    if (!has_arg) return "pattern needs a target: pattern:uniform, pattern:identity, pattern:previous or pattern:head:L2H5";
    e.value = 1.0;
    const size_t at = arg.rfind('@');
    std::string_view target = trim(arg.substr(0, at));
    if (at != std::string_view::npos) {
        if (!parse_number(arg.substr(at + 1), e.value) || e.value < 0.0 || e.value > 1.0)
            return fmt::format("the strength after '@' must be a number in [0, 1], got '{}'", std::string(arg.substr(at + 1)));
    }
    const size_t colon = target.find(':');
    const std::string_view name = trim(target.substr(0, colon));
    for (const auto& t : kPatternTargets) {
        if (name != t.name) continue;
        e.target = t.target;
        if (t.takes_head) {
            if (colon == std::string_view::npos) return fmt::format("pattern:{} needs a head, e.g. pattern:{}:L2H5", t.name, t.name);
            try {
                e.source = parse_head(target.substr(colon + 1));
            } catch (const UsageError& err) {
                return err.what();
            }
        } else if (colon != std::string_view::npos) {
            return fmt::format("pattern:{} takes no argument", t.name);
        }
        return "";
    }
    return fmt::format("unknown pattern target '{}' (expected uniform, identity, previous or head:<head>)", std::string(name));
}

std::string parse_channel(std::string_view arg, bool has_arg, HeadEdit& e) {
    const char* usage = "channel needs a finite factor and optionally a rank, e.g. channel:2 or channel:0.5@3";
    if (!has_arg) return usage;
    const size_t at = arg.rfind('@');
    if (!parse_number(arg.substr(0, at), e.value)) return usage;
    e.rank = 1;
    if (at != std::string_view::npos) {
        double r = 0;
        if (!parse_number(arg.substr(at + 1), r) || r < 1 || r > 1e6 || r != std::floor(r))
            return fmt::format("the rank after '@' must be a whole number >= 1, got '{}'", std::string(arg.substr(at + 1)));
        e.rank = static_cast<int>(r);
    }
    return "";
}

std::string parse_drop_sink(std::string_view arg, bool has_arg, HeadEdit& e) {
    e.value = 1.0;
    if (has_arg && (!parse_number(arg, e.value) || e.value < 0.0 || e.value > 1.0))
        return fmt::format("drop_sink's share must be a number in [0, 1], got '{}' (e.g. drop_sink:0.5)", std::string(arg));
    return "";
}

struct KindEntry {
    const char* name;
    EditKind kind;
    ArgParser parse;
};
// The edit kinds; add a new one here (and a case in make_edit_hook, edit_hooks.cpp).
constexpr KindEntry kEditKinds[] = {
    {"zero", EditKind::zero, parse_zero},
    {"ablate", EditKind::zero, parse_zero},
    {"scale", EditKind::scale, parse_scale},
    {"pattern", EditKind::pattern, parse_pattern},
    {"channel", EditKind::channel, parse_channel},
    {"drop_sink", EditKind::drop_sink, parse_drop_sink},
};

}  // namespace

const char* to_string(EditKind kind) {
    switch (kind) {
        case EditKind::zero: return "zero";
        case EditKind::scale: return "scale";
        case EditKind::pattern: return "pattern";
        case EditKind::channel: return "channel";
        case EditKind::drop_sink: return "drop_sink";
    }
    return "?";
}

const char* to_string(PatternTarget target) {
    switch (target) {
        case PatternTarget::uniform: return "uniform";
        case PatternTarget::identity: return "identity";
        case PatternTarget::previous: return "previous";
        case PatternTarget::head: return "head";
    }
    return "?";
}

std::string to_string(const HeadEdit& e) {
    const std::string head = head_label(e.head);
    switch (e.kind) {
        case EditKind::zero: return head + "=zero";
        case EditKind::scale: return fmt::format("{}=scale:{:g}", head, e.value);
        case EditKind::pattern:
            return fmt::format("{}=pattern:{}{}@{:g}", head, to_string(e.target),
                               e.target == PatternTarget::head ? ":" + head_label(e.source) : std::string(), e.value);
        case EditKind::channel: return fmt::format("{}=channel:{:g}@{}", head, e.value, e.rank);
        case EditKind::drop_sink: return fmt::format("{}=drop_sink:{:g}", head, e.value);
    }
    return head;
}

std::string intervention_grammar() {
    return "an edit is HEAD=EDIT, with HEAD as L1H4, 1.4 or 1:4 and EDIT one of\n"
           "  zero                      the head's output z := 0\n"
           "  scale:FACTOR              z *= FACTOR, e.g. L2H0=scale:1.5\n"
           "  pattern:TARGET[@ALPHA]    the head's attention A' = (1-ALPHA)*A + ALPHA*TARGET, ALPHA in [0, 1] "
           "(default 1),\n"
           "                            TARGET = uniform | identity | previous | head:L2H5, e.g. "
           "L0H3=pattern:identity@0.5\n"
           "  channel:FACTOR[@RANK]     the output along the top RANK (default 1) OV singular directions *= FACTOR,\n"
           "                            e.g. L1H3=channel:2@2\n"
           "  drop_sink[:ALPHA]         share ALPHA (default 1) of the attention on the first token moves to the\n"
           "                            other keys, e.g. L1H0=drop_sink:0.5";
}

HeadEdit parse_edit(const HeadRef& head, std::string_view text) {
    const std::string_view s = trim(text);
    const size_t colon = s.find(':');
    const std::string_view name = trim(s.substr(0, colon));
    const std::string_view arg = colon == std::string_view::npos ? std::string_view() : s.substr(colon + 1);
    for (const auto& k : kEditKinds) {
        if (name != k.name) continue;
        HeadEdit e;
        e.head = head;
        e.kind = k.kind;
        const std::string problem = k.parse(arg, colon != std::string_view::npos, e);
        if (!problem.empty()) throw UsageError(problem);
        return e;
    }
    throw UsageError(fmt::format("unknown edit '{}' (expected zero, scale:FACTOR, pattern:TARGET[@ALPHA], channel:FACTOR[@RANK] or drop_sink[:ALPHA])", std::string(name)));
}

HeadEdit parse_head_edit(std::string_view spec) {
    try {
        const size_t eq = spec.find('=');
        if (eq == std::string_view::npos) throw UsageError("no '=' between the head and the edit");
        return parse_edit(parse_head(spec.substr(0, eq)), spec.substr(eq + 1));
    } catch (const UsageError& e) {
        throw UsageError(fmt::format("--intervene '{}': {}\n{}", std::string(spec), e.what(), intervention_grammar()));
    }
}

std::vector<HeadEdit> parse_head_edits(const std::vector<std::string>& specs) {
    std::vector<HeadEdit> out;
    for (const auto& s : specs) out.push_back(parse_head_edit(s));
    return out;
}

}  // namespace headscope
