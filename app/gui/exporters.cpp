#include "exporters.hpp"

#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QPixmap>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

namespace headscope::gui {

QString save_widget_image(QWidget& widget, const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return QString("cannot write %1: %2").arg(path, file.errorString());
    if (suffix == "svg") {
        QSvgGenerator svg;
        svg.setOutputDevice(&file);
        svg.setSize(widget.size());
        svg.setViewBox(QRect(QPoint(0, 0), widget.size()));
        svg.setTitle(widget.windowTitle().isEmpty() ? QString("headscope view") : widget.windowTitle());
        svg.setDescription("Exported from headscope-gui");
        QPainter painter;
        if (!painter.begin(&svg)) return QString("cannot paint into %1").arg(path);
        widget.render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
        painter.end();
    } else {
        const QPixmap pixmap = widget.grab();
        if (pixmap.isNull()) return QString("the view %1 has nothing to draw").arg(widget.objectName());
        if (!pixmap.toImage().save(&file, "PNG")) return QString("cannot encode PNG for %1").arg(path);
    }
    if (!file.commit()) return QString("cannot write %1: %2").arg(path, file.errorString());
    return {};
}

}  // namespace headscope::gui
