#pragma once
// RooflineChart: the roofline on log-log axes (Qt Charts): the machine's memory roof (bandwidth ×
// intensity) up to the ridge point and its compute roof after it, and one dot per kernel node at
// its intensity and attainable performance, orange when memory-bound and blue when
// compute-bound. Linked with a canvas both ways: clicking a dot emits nodeClicked, and
// highlightNode rings the dot of a node selected elsewhere. Hovering a marker lists the kernels it
// stands for (tooltipAt).
//
// request() computes the dots off the GUI thread (the machine model too, through the callable
// it is given) and plots them when they arrive (dotsChanged); a newer request drops an older
// one's result, and meanwhile the title says "computing…" and the previous plot stays.
#include <QChartView>
#include <functional>
#include <memory>
#include <vector>

#include "async_analysis.h"
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
    /// Verifies a copy of `graph` and computes its dots on a worker, where `machine` is called
    /// (it may block there, e.g. on a calibration); an invalid graph clears the chart and emits
    /// failed.
    void request(std::shared_ptr<const adj::Graph> graph, std::function<adj::MachineModel()> machine);
    /// Plots dots computed for `machine` (the GUI-thread half of setGraph and request).
    void setDots(std::vector<RooflineDot> dots, const adj::MachineModel& machine);
    void clearGraph();
    bool isComputing() const { return compute_.isBusy(); }
    /// Results applied so far (tests: stale results are never applied).
    int appliedCount() const { return compute_.appliedCount(); }
    const std::vector<RooflineDot>& dots() const { return dots_; }
    adj::NodeId highlightedNode() const { return highlighted_; }
    /// How many dots are ringed (a selected group rings each of its kernels).
    int highlightedCount() const;
    /// The dot nearest to `point` (chart value coordinates, compared in log space), kNoNode when
    /// there are no dots.
    adj::NodeId nodeNearest(const QPointF& value) const;
    /// What hovering a marker shows: the kernels drawn within a marker's reach of `value` (chart
    /// value coordinates; dots of equal intensity share a marker), the costliest first, each with
    /// its FLOPs, bytes and intensity; empty where there is none.
    QString tooltipAt(const QPointF& value) const;

public Q_SLOTS:
    void highlightNode(adj::NodeId id);
    /// Rings the dots of these nodes (a canvas selection: a collapsed module's box stands for
    /// all its members); highlightedNode() is the first of them that has a dot.
    void highlightNodes(const std::vector<adj::NodeId>& ids);

Q_SIGNALS:
    void nodeClicked(adj::NodeId id);
    /// New dots are plotted (or none, after a failure).
    void dotsChanged();
    void failed(const QString& message);

private:
    struct Plot {
        std::vector<RooflineDot> dots;
        adj::MachineModel machine;
    };
    void setBusy(bool busy);

    QLineSeries* roof_;
    QScatterSeries* memoryDots_;
    QScatterSeries* computeDots_;
    QScatterSeries* highlight_;
    QLogValueAxis* axisX_;
    QLogValueAxis* axisY_;
    std::vector<RooflineDot> dots_;
    adj::NodeId highlighted_ = adj::kNoNode;
    QString title_;
    AsyncAnalysis<Plot> compute_;
};
