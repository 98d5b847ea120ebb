#include "svg_raster.h"

#include <QBuffer>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QSvgRenderer>
#include <cstdlib>
#include <memory>

#include "base/errors.h"
#include "base/files.h"

namespace adj::cli {
namespace {

void ensureGuiApplication() {
    if (QCoreApplication::instance()) return;
    static int argc = 1;
    static char name[] = "adjoint-cli";
    static char* argv[] = {name, nullptr};
    qputenv("QT_QPA_PLATFORM", "offscreen");
    // Qt's own chatter (no XDG_RUNTIME_DIR, font fallbacks) is not the user's business on a CLI's
    // stderr, whose lines are errors
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString&) {
        if (type == QtFatalMsg) std::abort();
    });
    static std::unique_ptr<QGuiApplication> app = std::make_unique<QGuiApplication>(argc, argv);
}

}  // namespace

void writeSvgAsPng(const std::string& svg, const std::string& path, double scale) {
    ensureGuiApplication();
    QSvgRenderer renderer(QByteArray::fromStdString(svg));
    if (!renderer.isValid()) throw Error("cannot render the chart to PNG: its SVG does not parse");
    const QSize size = (QSizeF(renderer.defaultSize()) * scale).toSize();
    if (size.isEmpty()) throw Error("cannot render the chart to PNG: its SVG has no size");
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    {
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        renderer.render(&painter);
    }
    // encoded in memory, then written atomically: a full disk is one clear error, the old file stays
    QByteArray png;
    QBuffer buffer(&png);
    if (!buffer.open(QIODevice::WriteOnly) || !image.save(&buffer, "PNG")) throw Error("cannot encode the chart as PNG for " + path);
    writeFileAtomically(path, std::string_view(png.constData(), std::size_t(png.size())));
}

}  // namespace adj::cli
