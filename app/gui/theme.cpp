#include "theme.hpp"

#include <QApplication>
#include <QStyle>
#include <QStyleFactory>

namespace headscope::gui {

namespace {

QPalette& system_palette() {
    static QPalette palette;
    return palette;
}

QPalette dark_palette() {
    QPalette p;
    const QColor window(45, 45, 48), base(30, 30, 32), text(225, 225, 225), disabled(127, 127, 127);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(40, 40, 43));
    p.setColor(QPalette::ToolTipBase, QColor(60, 60, 64));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(58, 58, 62));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Link, QColor(90, 160, 240));
    p.setColor(QPalette::Highlight, QColor(38, 132, 235));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Light, QColor(80, 80, 84));
    p.setColor(QPalette::Midlight, QColor(66, 66, 70));
    p.setColor(QPalette::Mid, QColor(90, 90, 95));
    p.setColor(QPalette::Dark, QColor(25, 25, 27));
    p.setColor(QPalette::Shadow, Qt::black);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

}  // namespace

Theme parse_theme(const QString& name) {
    if (name.compare("light", Qt::CaseInsensitive) == 0) return Theme::light;
    if (name.compare("dark", Qt::CaseInsensitive) == 0) return Theme::dark;
    return Theme::system;
}

QString theme_name(Theme theme) {
    switch (theme) {
        case Theme::light: return "light";
        case Theme::dark: return "dark";
        case Theme::system: break;
    }
    return "system";
}

void init_theme(QApplication& app) {
    // Fusion draws the same everywhere and honours any palette, dark ones included.
    if (QStyle* fusion = QStyleFactory::create("Fusion")) app.setStyle(fusion);
    system_palette() = QGuiApplication::palette();
}

void apply_theme(Theme theme) {
    switch (theme) {
        case Theme::light: QApplication::setPalette(QApplication::style()->standardPalette()); break;
        case Theme::dark: QApplication::setPalette(dark_palette()); break;
        case Theme::system: QApplication::setPalette(system_palette()); break;
    }
}

bool is_dark(const QPalette& palette) { return palette.color(QPalette::Window).lightness() < 128; }

}  // namespace headscope::gui
