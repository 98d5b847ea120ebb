#pragma once
// RooflineChart: the roofline on log-log axes (Qt Charts): the machine's memory roof (bandwidth ×
// intensity) up to the ridge point and its compute roof after it, and one dot per kernel node at
// its intensity and attainable performance, orange when memory-bound and blue when
// compute-bound. Linked with a canvas both ways: clicking a dot emits nodeClicked, and
// highlightNode rings the dot of a node selected elsewhere.
#include <QChartView>
#include <vector>

#include "roofline_chart_model.h"

class QLineSeries;
class QScatterSeries;
class QLogValueAxis;

class RooflineChart : public QChartView {
    Q_OBJECT
public:
    explicit RooflineChart(QWidget* parent = nullptr);

    /// Plots the graph's kernel nodes on `machine` (graph must carry types).
    void setGraph(const adj::Graph& graph, const adj::MachineModel& machine);
    void clearGraph();
    const std::vector<RooflineDot>& dots() const { return dots_; }
    adj::NodeId highlightedNode() const { return highlighted_; }
    /// The dot nearest to `point` (chart value coordinates, compared in log space), kNoNode when
    /// there are no dots.
    adj::NodeId nodeNearest(const QPointF& value) const;
    /// Simulates a click on the dot of `id` (tests, keyboard).
    void clickNode(adj::NodeId id);

public Q_SLOTS:
    void highlightNode(adj::NodeId id);

Q_SIGNALS:
    void nodeClicked(adj::NodeId id);

private:
    QLineSeries* roof_;
    QScatterSeries* memoryDots_;
    QScatterSeries* computeDots_;
    QScatterSeries* highlight_;
    QLogValueAxis* axisX_;
    QLogValueAxis* axisY_;
    std::vector<RooflineDot> dots_;
    adj::NodeId highlighted_ = adj::kNoNode;
};
