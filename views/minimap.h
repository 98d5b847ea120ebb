#pragma once
// Minimap: an overview of a large drawing in the corner of its GraphView: every node a dot in its
// category's colour, group frames as outlines, and the part the view shows as a rectangle.
// Clicking or dragging in it moves the view there. The picture is drawn once per layout (a
// 100,000-node drawing in milliseconds: dots, not items) and shown only while the drawing does
// not fit the view.
#include <QImage>
#include <QRectF>
#include <QWidget>

class GraphView;

class Minimap : public QWidget {
    Q_OBJECT
public:
    explicit Minimap(GraphView* view);

    /// Redraws the overview from the view's scene (after a layout).
    void rebuild();
    /// Puts the minimap in the view's bottom-right corner, shown when wanted and useful.
    void place();
    void setWanted(bool on);
    bool isWanted() const { return wanted_; }
    /// The scene point a minimap point stands for (tests).
    QPointF toScene(const QPointF& p) const;
    QPointF fromScene(const QPointF& p) const;

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    GraphView* view_;
    QImage picture_;
    QRectF sceneRect_;  // what the picture covers
    double scale_ = 1;  // minimap pixels per scene unit
    QPointF offset_;    // where the scene rect's corner is drawn
    bool wanted_ = true;
};
