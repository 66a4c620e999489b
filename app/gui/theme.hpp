// Light and dark palettes. "System" keeps the palette the platform gave the application at start
// (and follows it when the platform changes it); "Light" and "Dark" are Fusion palettes.
#pragma once

#include <QPalette>
#include <QString>

class QApplication;

namespace headscope::gui {

enum class Theme { system, light, dark };

Theme parse_theme(const QString& name);  // "light", "dark", anything else -> system
QString theme_name(Theme theme);
// Call once, right after the QApplication exists (records the system palette).
void init_theme(QApplication& app);
void apply_theme(Theme theme);
bool is_dark(const QPalette& palette);

}  // namespace headscope::gui
