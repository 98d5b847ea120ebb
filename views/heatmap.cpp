#include "heatmap.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

QColor classColour(int k) {
    static const QColor colours[] = {QColor(220, 60, 50), QColor(40, 100, 220), QColor(40, 160, 60), QColor(230, 150, 0),
                                     QColor(140, 60, 180), QColor(0, 150, 150), QColor(200, 40, 130), QColor(110, 80, 60),
                                     QColor(90, 90, 90), QColor(150, 150, 0)};
    return colours[std::abs(k) % int(std::size(colours))];
}

QImage tensorHeatmap(const adj::Tensor& tensor) {
    if (!tensor.defined() || tensor.numel() == 0) return {};
    const adj::Tensor t = tensor.contiguous();
    const std::int64_t cols = t.shape().empty() ? 1 : t.shape().back();
    const std::int64_t rows = t.numel() / std::max<std::int64_t>(cols, 1);
    const float* d = t.data();
    double extent = 0;
    for (std::int64_t i = 0; i < t.numel(); ++i)
        if (std::isfinite(d[i])) extent = std::max(extent, double(std::fabs(d[i])));
    if (extent == 0) extent = 1;
    QImage image(int(cols), int(rows), QImage::Format_RGB32);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            const double v = d[r * cols + c] / extent;
            const int fade = int(255 * (1 - std::min(1.0, std::fabs(v))));
            image.setPixel(int(c), int(r), v >= 0 ? qRgb(255, fade, fade) : qRgb(fade, fade, 255));
        }
    return image;
}

HeatmapWidget::HeatmapWidget(QWidget* parent) : QWidget(parent) { setMinimumSize(160, 160); }

void HeatmapWidget::setImage(const QImage& image, const QRectF& domain) {
    image_ = image;
    domain_ = domain;
    update();
}

void HeatmapWidget::setPoints(std::vector<QPointF> points, std::vector<int> classes) {
    points_ = std::move(points);
    classes_ = std::move(classes);
    update();
}

void HeatmapWidget::setTitle(const QString& title) {
    title_ = title;
    update();
}

void HeatmapWidget::clear() {
    image_ = QImage();
    points_.clear();
    classes_.clear();
    update();
}

void HeatmapWidget::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const int titleHeight = title_.isEmpty() ? 0 : fontMetrics().height() + 4;
    if (!title_.isEmpty()) p.drawText(QRect(0, 0, width(), titleHeight), Qt::AlignCenter, title_);
    const int side = std::max(10, std::min(width(), height() - titleHeight) - 8);
    const QRectF target((width() - side) / 2.0, titleHeight + (height() - titleHeight - side) / 2.0, side, side);
    if (!image_.isNull()) {
        p.setRenderHint(QPainter::SmoothPixmapTransform);
        p.drawImage(target, image_);
    }
    p.setPen(QPen(palette().mid().color(), 1));
    p.setBrush(Qt::NoBrush);
    p.drawRect(target);
    if (domain_.width() <= 0 || domain_.height() <= 0) return;
    p.setRenderHint(QPainter::Antialiasing);
    for (std::size_t i = 0; i < points_.size(); ++i) {
        const QPointF& q = points_[i];
        const double x = target.left() + (q.x() - domain_.left()) / domain_.width() * target.width();
        const double y = target.bottom() - (q.y() - domain_.top()) / domain_.height() * target.height();
        p.setPen(QPen(Qt::white, 1));
        p.setBrush(classColour(i < classes_.size() ? classes_[i] : 0));
        p.drawEllipse(QPointF(x, y), 3.2, 3.2);
    }
}
