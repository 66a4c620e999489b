// Saving pictures of views: PNG (the widget as rendered on screen, at the screen's pixel ratio)
// or SVG (the widget painted into an SVG generator: lines and text stay vectors; heatmaps are
// embedded as images). Atomic: written to a temporary file, then renamed.
#pragma once

#include <QString>

class QWidget;

namespace headscope::gui {

// The format follows the extension (.svg, else PNG). Returns an error message, empty on success.
QString save_widget_image(QWidget& widget, const QString& path);

}  // namespace headscope::gui
