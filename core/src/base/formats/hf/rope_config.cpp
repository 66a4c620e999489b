// rope_scaling / rope_parameters -> RopeScaling, with the defaults and derived values of
// transformers' modeling_rope_utils (_compute_*_parameters).
#include "formats/hf/rope_config.hpp"

#include <cmath>

#include <fmt/format.h>

namespace headscope::hf_cfg {

using nlohmann::json;

const char* supported_rope_types() { return "default, linear, dynamic, llama3, yarn, longrope (su)"; }

namespace {
std::string type_of(const json& j) {
    for (const char* k : {"rope_type", "type"})
        if (j.is_object() && j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
    return "";
}

std::vector<double> factor_list(const ConfigFields& s, const char* key) {
    const json* j = s.get(key);
    if (!j) s.fail(key, "is required for longrope scaling");
    if (!j->is_array()) s.fail(key, fmt::format("expected a list of numbers, got {}", describe_json(*j)));
    std::vector<double> out;
    for (const auto& v : *j) {
        if (!v.is_number() || !(v.get<double>() > 0))
            s.fail(key, fmt::format("holds {}, expected positive numbers", describe_json(v)));
        out.push_back(v.get<double>());
    }
    return out;
}

double yarn_mscale(double scale, double m) { return scale <= 1.0 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; }
}  // namespace

RopeSettings read_rope(const ConfigFields& f, const char* legacy_theta_key, double default_theta) {
    RopeSettings rope;
    rope.theta = default_theta;
    if (const json* s = f.get("rope_scaling")) {
        if (!s->is_object()) f.fail("rope_scaling", fmt::format("expected an object, got {}", describe_json(*s)));
        if (type_of(*s) != "default") rope.scaling = s;
    }
    if (f.has(legacy_theta_key)) rope.theta = f.positive_number(legacy_theta_key, default_theta);
    if (f.has("rope_theta")) rope.theta = f.positive_number("rope_theta", default_theta);
    if (f.has("partial_rotary_factor")) rope.partial_factor = f.positive_number("partial_rotary_factor", 1.0);
    if (const json* p = f.get("rope_parameters")) {
        if (!p->is_object()) f.fail("rope_parameters", fmt::format("expected an object, got {}", describe_json(*p)));
        ConfigFields nested(*p, f.origin() + ": rope_parameters");
        if (nested.has("rope_theta")) rope.theta = nested.positive_number("rope_theta", rope.theta);
        if (nested.has("partial_rotary_factor")) {
            rope.partial_factor = nested.positive_number("partial_rotary_factor", 1.0);
            rope.partial_nested = true;
        }
        const std::string t = type_of(*p);
        if (!t.empty() && t != "default") {
            rope.scaling = p;
            rope.scaling_key = "rope_parameters";
        }
    }
    return rope;
}

RopeScaling resolve_rope_scaling(const ConfigFields& f, const RopeSettings& rope, int max_positions,
                                 std::optional<int> original_top_level) {
    RopeScaling r;
    if (!rope.scaling) return r;
    const json& j = *rope.scaling;
    ConfigFields s(j, f.origin() + ": " + rope.scaling_key);
    const std::string type = type_of(j);
    if (type.empty())
        f.fail(rope.scaling_key, fmt::format("has no \"rope_type\" (or \"type\"); supported rope types: {}",
                                             supported_rope_types()));
    auto factor = [&] { return s.positive_number("factor", 1.0); };
    if (type == "linear") {
        r.kind = RopeScalingKind::linear;
        r.factor = factor();
    } else if (type == "dynamic") {
        r.kind = RopeScalingKind::dynamic;
        r.factor = factor();
        r.original_context = max_positions;
    } else if (type == "llama3") {
        r.kind = RopeScalingKind::llama3;
        r.factor = factor();
        for (const char* k : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
            if (!s.has(k)) s.fail(k, "is required for llama3 scaling");
        r.low_freq_factor = s.positive_number("low_freq_factor", 1.0);
        r.high_freq_factor = s.positive_number("high_freq_factor", 4.0);
        if (r.high_freq_factor == r.low_freq_factor)
            s.fail("high_freq_factor", "equals low_freq_factor, which leaves the smoothing undefined");
        r.original_context = s.integer("original_max_position_embeddings", 8192);
    } else if (type == "yarn") {
        r.kind = RopeScalingKind::yarn;
        r.factor = factor();
        r.original_context = max_positions;
        if (s.has("original_max_position_embeddings")) {
            // transformers: the factor is the ratio of the expanded to the original context.
            r.original_context = s.integer("original_max_position_embeddings", max_positions);
            r.factor = static_cast<double>(max_positions) / r.original_context;
        }
        r.beta_fast = s.has("beta_fast") ? s.positive_number("beta_fast", 32.0) : 32.0;
        r.beta_slow = s.has("beta_slow") ? s.positive_number("beta_slow", 1.0) : 1.0;
        r.truncate = s.boolean("truncate", true);
        if (s.has("attention_factor")) {
            r.attention_factor = s.positive_number("attention_factor", 1.0);
        } else if (s.has("mscale") && s.has("mscale_all_dim")) {
            r.attention_factor = yarn_mscale(r.factor, s.positive_number("mscale", 1.0)) /
                                 yarn_mscale(r.factor, s.positive_number("mscale_all_dim", 1.0));
        } else {
            r.attention_factor = yarn_mscale(r.factor, 1.0);
        }
    } else if (type == "longrope" || type == "su") {
        r.kind = RopeScalingKind::longrope;
        r.short_factor = factor_list(s, "short_factor");
        r.long_factor = factor_list(s, "long_factor");
        double fac = 1.0;
        if (original_top_level) {
            r.original_context = *original_top_level;
            fac = static_cast<double>(max_positions) / r.original_context;
        } else {
            r.original_context = max_positions;
            fac = s.positive_number("factor", 1.0);
        }
        r.factor = fac;
        if (s.has("attention_factor")) r.attention_factor = s.positive_number("attention_factor", 1.0);
        else r.attention_factor = fac <= 1.0 ? 1.0 : std::sqrt(1.0 + std::log(fac) / std::log(r.original_context));
    } else {
        f.fail(rope.scaling_key, fmt::format("rope type \"{}\" is not supported; supported rope types: {}", type,
                                             supported_rope_types()));
    }
    return r;
}

}  // namespace headscope::hf_cfg
