// A results file exercising every Result item kind, hostile text in every place text can go
// (prompts, token labels, table cells, titles, errors), NaN values, a large matrix drawn as a
// raster, and a failed analysis. Shared by the report unit and CLI tests.
#pragma once

#include <cmath>
#include <string>

#include "headscope/sdk/result_store.hpp"

namespace headscope::test {

// Markers a test looks for as text (escaped) and must never find as markup.
inline const char* kHostilePrompt = "Once <script>alert('pwned')</script> upon a \"onerror=alert(1) <img src=x onerror=alert(2)> time";
inline const char* kHostileToken = "<script>";

inline ResultsFile sample_results(int big = 600) {
    ResultsFile f;
    Provenance& p = f.provenance;
    p.model_path = "/models/stories260K/stories260K.bin";
    p.model_sha256 = "9d4f6a0b0f2d3b17a1c2e3f4a5b6c7d8e9f00112233445566778899aabbccdd";
    p.model_format = "llama2c";
    p.architecture = "llama";
    p.model_facts = {{"n_layers", "2"}, {"n_heads", "8"}, {"d_model", "64"}};
    p.prompts = {kHostilePrompt, "line one\nline two & <b>three</b>"};
    p.prompt_source = "--prompt";
    p.headscope_version = "0.1.0";
    p.created_utc = "2024-05-01T12:34:56Z";
    p.command_line = "headscope analyze model.bin --prompt '<script>'";

    Result induction;
    induction.analysis_id = "induction";
    induction.analysis_title = "Induction heads";
    induction.analysis_version = "1.0";
    induction.parameters = {{"min_distance", "2"}, {"label", "<i>x</i>"}};
    induction.summary = {"Induction heads found in layer 1."};
    HeadGrid score;
    score.key = "induction_score";
    score.title = "Induction score";
    score.description = "Mean attention from a repeated token to the token after its first occurrence.";
    score.layers = 2;
    score.heads = 8;
    score.values.assign(16, 0.0);
    for (int i = 0; i < 16; ++i) score.values[static_cast<size_t>(i)] = 0.05 * (i % 5);
    score.values[8 + 4] = 0.93;  // head 1.4
    score.values[8 + 1] = 0.61;  // head 1.1
    score.values[3] = std::nan("");
    induction.items.push_back(score);
    Matrix pattern;
    pattern.key = "pattern_1_4";
    pattern.title = "Attention pattern of head 1.4";
    pattern.rows = pattern.cols = 6;
    pattern.row_labels = pattern.col_labels = {"<s>", kHostileToken, "\"onerror=", " the", "\n", "&amp;"};
    pattern.row_axis = "query";
    pattern.col_axis = "key";
    for (int q = 0; q < 6; ++q)
        for (int k = 0; k < 6; ++k) pattern.values.push_back(k <= q ? 1.0 / (q + 1) : 0.0);
    induction.items.push_back(pattern);
    TokenScores tokens;
    tokens.key = "received";
    tokens.title = "Attention received";
    tokens.tokens = {"<s>", kHostileToken, " once", "\n", "'x'"};
    tokens.scores = {0.9, 0.1, -0.2, std::nan(""), 0.4};
    tokens.scale = Scale::diverging;
    induction.items.push_back(tokens);
    f.results.push_back(induction);

    Result attribution;
    attribution.analysis_id = "attribution";
    attribution.analysis_title = "Logit attribution <b>";
    attribution.analysis_version = "2";
    HeadGrid direct;
    direct.key = "direct_effect";
    direct.title = "Direct logit attribution";
    direct.layers = 2;
    direct.heads = 8;
    for (int i = 0; i < 16; ++i) direct.values.push_back(std::sin(i * 0.7) * 2);
    direct.scale = Scale::diverging;
    attribution.items.push_back(direct);
    Spectrum spectrum;
    spectrum.key = "ov_spectrum";
    spectrum.title = "OV singular values";
    spectrum.series_names = {"head 1.4 <OV>", "head 0.0"};
    spectrum.series = {{5, 3, 2, 1, 0.5, 0.25, 0.1, 0.05}, {2, 1.9, 1.8, 1.2, 0.2}};
    spectrum.y_axis = "singular value";
    spectrum.log_y = true;
    attribution.items.push_back(spectrum);
    Table table;
    table.key = "top_tokens";
    table.title = "Top tokens";
    table.columns = {"token", "logit", "rank"};
    table.rows = {{std::string("<td>evil</td>"), 3.25, int64_t{1}}, {std::string(" Mary"), std::nan(""), int64_t{2}}};
    attribution.items.push_back(table);
    Graph graph;
    graph.key = "composition";
    graph.title = "Composition";
    graph.nodes = {{"L0H1", "L0H1", 0, 1}, {"L0H3", "L0H3", 0, 3}, {"L1H4", "L1H4 <b>", 1, 4}, {"logits", "logits", -1, -1}};
    graph.edges = {{0, 2, 0.8, "K"}, {1, 2, -0.3, "Q"}, {2, 3, 1.2, "V"}, {7, 0, 1, "bad"}};
    attribution.items.push_back(graph);
    f.results.push_back(attribution);

    Result raster;
    raster.analysis_id = "long_pattern";
    raster.analysis_title = "A long attention pattern";
    raster.analysis_version = "1";
    Matrix m;
    m.key = "pattern";
    m.title = "Pattern over many tokens";
    m.rows = m.cols = big;
    for (int q = 0; q < big; ++q)
        for (int k = 0; k < big; ++k) m.values.push_back(k <= q ? (k == q - 1 ? 0.8 : 0.2 / (q + 1)) : 0.0);
    m.row_axis = "query";
    m.col_axis = "key";
    raster.items.push_back(m);
    f.results.push_back(raster);

    Result failed;
    failed.analysis_id = "broken";
    failed.analysis_title = "An analysis that failed";
    failed.analysis_version = "0.1";
    failed.error = "boom: <script>alert('err')</script>";
    f.results.push_back(failed);
    return f;
}

}  // namespace headscope::test
