// bench/gui: how fast headscope-gui redraws.
//  1. The attention pattern view at 512 / 2,048 / 4,096 tokens: building the image pyramid once
//     per head, then repainting (fitted, zoomed in, with a hover) — goal < 16 ms per repaint.
//     Peer: a naive repaint that scales the full-resolution pattern image smoothly on every paint.
//  2. The grid after an intervention at 512 and 2,048 tokens: toggle a head's ablation, wait for
//     the engine thread to re-run the prompt and the grid to repaint — goal < 100 ms at 2,048.
//     Peer: the bare forward pass with the same hook on this thread (no GUI, no thread hop).
//     Models: data/models/tiny-world when present, a random model of its shape with a 4,096-token
//     context (so 2,048 tokens fit), and stories260K (context 512).
// Runs offscreen; prints figures, asserts nothing.
#include <QApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "engine.hpp"
#include "head_grid_panel.hpp"
#include "head_grid_view.hpp"
#include "gui_app.hpp"
#include "head_scaling.hpp"
#include "heatmap_view.hpp"
#include "headscope/model_loader.hpp"
#include "main_window.hpp"
#include "pattern_view.hpp"
#include "session.hpp"

using namespace headscope;
using namespace headscope::gui;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

double ms_since(const QElapsedTimer& t) { return static_cast<double>(t.nsecsElapsed()) / 1e6; }

// A causal attention pattern: softmax over keys <= query of random scores, with a sharp peak
// on the previous token (so zoomed-out views must keep thin features).
HeadPattern synthetic_pattern(int T) {
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.f, 1.f);
    HeadPattern p;
    p.size = T;
    p.values.assign(static_cast<size_t>(T) * static_cast<size_t>(T), 0.f);
    std::vector<float> row;
    for (int q = 0; q < T; ++q) {
        row.assign(static_cast<size_t>(q + 1), 0.f);
        float mx = -1e30f;
        for (int k = 0; k <= q; ++k) {
            row[static_cast<size_t>(k)] = noise(rng) + (k == q - 1 ? 6.f : 0.f) + (k == 0 ? 4.f : 0.f);
            mx = std::max(mx, row[static_cast<size_t>(k)]);
        }
        float sum = 0;
        for (float& x : row) sum += (x = std::exp(x - mx));
        for (int k = 0; k <= q; ++k) p.values[static_cast<size_t>(q) * static_cast<size_t>(T) + static_cast<size_t>(k)] = row[static_cast<size_t>(k)] / sum;
    }
    return p;
}

double time_repaints(QWidget& w, QImage& target, int n) {
    std::vector<double> times;
    for (int i = 0; i < n; ++i) {
        QElapsedTimer t;
        t.start();
        w.render(&target);
        times.push_back(ms_since(t));
    }
    return median(times);
}

void bench_pattern_view(Session& session) {
    std::printf("\n== pattern view repaint (widget 900x900, median of 30) ==\n");
    std::printf("%7s %12s %14s %14s %14s %16s %8s\n", "tokens", "build ms", "fit paint ms", "zoom paint ms", "hover paint ms",
                "naive peer ms", "ratio");
    for (int T : {512, 2048, 4096}) {
        const auto shared = std::make_shared<const HeadPattern>(synthetic_pattern(T));
        const HeadPattern& pattern = *shared;
        std::vector<std::string> tokens;
        for (int i = 0; i < T; ++i) tokens.push_back(" tok" + std::to_string(i));
        PatternView view(session);
        view.resize(900, 900);
        view.show();
        QElapsedTimer build;
        build.start();
        view.show_pattern(shared, tokens);
        const double build_ms = ms_since(build);
        QImage target(view.size(), QImage::Format_ARGB32_Premultiplied);
        HeatmapView& map = view.heatmap();
        time_repaints(view, target, 3);  // warm up
        const double fit_ms = time_repaints(map, target, 30);
        map.zoom_by(8.0, map.rect().center());
        const double zoom_ms = time_repaints(map, target, 30);
        map.fit();
        // A hover moves the outline and the readout: one repaint of the map.
        std::vector<double> hover;
        for (int i = 0; i < 30; ++i) {
            QElapsedTimer t;
            t.start();
            QTest::mouseMove(&map, QPoint(100 + i * 10, 300 + i * 5));
            map.render(&target);
            hover.push_back(ms_since(t));
        }
        // Peer: scale the full-resolution image smoothly onto the widget on every paint.
        QImage full(T, T, QImage::Format_RGB32);
        for (int r = 0; r < T; ++r) {
            auto* line = reinterpret_cast<QRgb*>(full.scanLine(r));
            for (int c = 0; c < T; ++c) line[c] = gui::ValueRange{0, 1, Scale::sequential}.color(pattern.values[static_cast<size_t>(r) * T + c]);
        }
        std::vector<double> naive;
        for (int i = 0; i < 10; ++i) {
            QElapsedTimer t;
            t.start();
            QPainter p(&target);
            p.setRenderHint(QPainter::SmoothPixmapTransform);
            p.drawImage(QRect(40, 6, 850, 850), full);
            p.end();
            naive.push_back(ms_since(t));
        }
        const double naive_ms = median(naive);
        std::printf("%7d %12.1f %14.2f %14.2f %14.2f %16.2f %7.1fx\n", T, build_ms, fit_ms, zoom_ms, median(hover), naive_ms,
                    naive_ms / std::max(fit_ms, 1e-3));
    }
}

std::string long_prompt(const Tokenizer& tokenizer, int tokens) {
    const std::string paragraph =
        "Once upon a time, there was a little girl named Lily. She loved to play with her ball in the park. One day, "
        "she saw a big dog. The dog was friendly and wanted to play too. Lily and the dog played all day and were happy. ";
    std::string text;
    while (static_cast<int>(tokenizer.encode(text, true).ids.size()) < tokens) text += paragraph;
    // Trim to the wanted length in tokens.
    auto e = tokenizer.encode(text, true);
    return text.substr(0, e.offsets[static_cast<size_t>(tokens - 1)].second);
}

void bench_intervention(const std::string& model_path, int tokens) {
    Engine engine;
    Session session(engine);
    MainWindow window(session);
    window.set_interactive(false);
    window.set_save_settings(false);
    session.set_auto_analyses(false);
    window.resize(1400, 900);
    window.show();
    LoadedModel reference = load_model(model_path);
    PromptExample e;
    e.prompt = long_prompt(*reference.tokenizer, tokens);
    session.run_prompt(e);
    window.open_model(QString::fromStdString(model_path));
    QString failure;
    QObject::connect(&session, &Session::failed, [&](const QString& what, const QString& message) { failure = what + ": " + message; });
    if (!QTest::qWaitFor([&] { return !failure.isEmpty() || (session.run() && session.outcome() && engine.idle()); }, 600000) ||
        !failure.isEmpty()) {
        std::printf("%7d  skipped: %s\n", tokens, failure.isEmpty() ? "timed out" : qPrintable(failure));
        return;
    }
    const int T = static_cast<int>(session.run()->ids.size());
    HeadGridView& grid = window.grid_panel().view();
    QImage target(grid.size(), QImage::Format_ARGB32_Premultiplied);
    std::vector<double> total, engine_ms, paint;
    const int L = session.model()->n_layers, H = session.model()->n_heads;
    for (int i = 0; i < 12; ++i) {
        const int layer = i % L, head = (i * 3) % H;
        auto before = session.outcome();
        QElapsedTimer t;
        t.start();
        session.set_head_scale(layer, head, session.head_scale(layer, head) == 0.0 ? 1.0 : 0.0);
        if (!QTest::qWaitFor([&] { return session.outcome() != before; }, 600000)) {
            std::printf("timed out waiting for the intervention\n");
            return;
        }
        QElapsedTimer p;
        p.start();
        grid.render(&target);
        paint.push_back(ms_since(p));
        total.push_back(ms_since(t));
        engine_ms.push_back(session.outcome()->elapsed_ms);
    }
    // Peer: the same forward pass with the same hook, on this thread.
    std::vector<double> bare;
    {
        torch::NoGradGuard no_grad;
        std::vector<int64_t> wide(session.run()->ids.begin(), session.run()->ids.end());
        torch::Tensor ids = torch::tensor(wide, torch::kLong).unsqueeze(0);
        for (int i = 0; i < 5; ++i) {
            QElapsedTimer t;
            t.start();
            reference.model->run_with_hooks(ids, head_scaling_hooks({HeadScale{1, 1, 0.0}}));
            bare.push_back(ms_since(t));
        }
    }
    std::printf("%7d %16.1f %14.1f %12.2f %16.1f %8.2fx\n", T, median(total), median(engine_ms), median(paint), median(bare),
                median(total) / std::max(median(bare), 1e-3));
}

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QTemporaryDir settings;
    qputenv("XDG_CONFIG_HOME", settings.path().toUtf8());
    QApplication app(argc, argv);
    install_quiet_message_handler();
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settings.path());
    std::printf("bench/gui (Qt %s, platform %s, %d torch threads)\n", qVersion(), qPrintable(QGuiApplication::platformName()),
                at::get_num_threads());
    {
        Engine engine;
        Session session(engine);
        bench_pattern_view(session);
    }
    // tiny-world's shape (4 layers, d_model 128, 8 query / 4 kv heads) with random weights and a
    // 4,096-token context, written by the independent reference script, so 2,048 tokens fit.
    QTemporaryDir scratch;
    const std::string shaped = scratch.filePath("tiny-world-shaped").toStdString();
    const std::string command = std::string("/usr/bin/python3 ") + HEADSCOPE_SOURCE_DIR +
                                "/tests/reference/hf_reference.py write llama " + shaped +
                                " --seed 3 --gqa --d-model 128 --layers 4 --heads 8 --vocab 256 --ctx 4096 > /dev/null";
    std::vector<std::pair<std::string, std::vector<int>>> models;
    const std::string tiny = HEADSCOPE_SOURCE_DIR "/data/models/tiny-world";
    if (QFileInfo::exists(QString::fromStdString(tiny))) models.push_back({tiny, {128}});  // its whole context
    if (std::system(command.c_str()) == 0) models.push_back({shaped, {512, 2048}});
    models.push_back({HEADSCOPE_SHARED_DIR "/models/stories260K/stories260K.bin", {512}});
    for (const auto& [model, lengths] : models) {
        std::printf("\n== grid after an intervention: %s ==\n(toggle a head's ablation -> engine re-runs the prompt -> "
                    "grid repainted; median of 12)\n",
                    model.c_str());
        std::printf("%7s %16s %14s %12s %16s %9s\n", "tokens", "change->grid ms", "engine run ms", "grid paint ms",
                    "bare forward ms", "ratio");
        for (int T : lengths) bench_intervention(model, T);
    }
    return 0;
}
