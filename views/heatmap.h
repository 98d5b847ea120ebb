#pragma once
// HeatmapWidget: an image stretched over a rectangle of a 2-D domain (a decision boundary, a
// tensor's values) with optional scatter points on top (the data, coloured by class), and
// helpers that turn values into colours.
#include <QColor>
#include <QImage>
#include <QRectF>
#include <QWidget>
#include <vector>

#include "tensor/tensor.h"

class HeatmapWidget : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapWidget(QWidget* parent = nullptr);

    /// `image` covers `domain` (x right, y up); row 0 of the image is the top (largest y).
    void setImage(const QImage& image, const QRectF& domain);
    /// Points in domain coordinates with their class (colour from classColour).
    void setPoints(std::vector<QPointF> points, std::vector<int> classes);
    void setTitle(const QString& title);
    void clear();
    const QImage& image() const { return image_; }
    int pointCount() const { return int(points_.size()); }

    QSize sizeHint() const override { return {320, 320}; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QImage image_;
    QRectF domain_;
    std::vector<QPointF> points_;
    std::vector<int> classes_;
    QString title_;
};

/// A distinct saturated colour per class (0, 1, 2, ...).
QColor classColour(int k);
/// A 2-D tensor (or any tensor, seen as [rows, last dim]) as an image on a diverging blue-white-red
/// scale symmetric around 0.
QImage tensorHeatmap(const adj::Tensor& tensor);
