#pragma once
// MemoryView: where the bytes go (the lecture's memory lesson). For the document's graph, its
// backward graph or its training step, with a checkpoint policy and an execution order
// (train/memory_report.h), it draws every buffer as a bar over the execution order, from the step
// that makes it to its last use (bars packed into lanes that never overlap), the live bytes as a
// curve above them with the peak marked, and the figures: planned peak, lower bound, bytes without
// reuse, activations kept for the backward pass, nodes recomputed. Colours: forward values the
// backward pass keeps (orange), other forward values (blue), backward values (green),
// recomputations (purple), graph outputs (grey).
//
// Linked with the canvas: hovering a bar names its tensor and emits nodeHovered, clicking emits
// nodeClicked (the document's node; a recomputation stands for the node it copies), and
// highlightNode outlines the bars of a node selected elsewhere. request() computes off the GUI
// thread (views/async_analysis.h); a newer request drops an older one's result.
#include <QWidget>
#include <memory>
#include <vector>

#include "async_analysis.h"
#include "train/memory_report.h"

class QComboBox;
class QLabel;

/// One buffer of the plan, as drawn.
struct MemoryBar {
    enum class Kind { Kept, Forward, Backward, Recomputed, Output };
    QString name;          ///< the value that holds the buffer (and how many write over it)
    qint64 bytes = 0;
    int start = 0, end = 0;  ///< schedule steps, inclusive
    int lane = 0;
    Kind kind = Kind::Forward;
    adj::NodeId node = adj::kNoNode;  ///< the node of the document graph it stands for, if any
};

/// What the view shows for one request (computed off the GUI thread).
struct MemoryPicture {
    std::vector<MemoryBar> bars;
    std::vector<qint64> live;
    int peakStep = 0;
    /// The first step that computes something (sources take the steps before it): the x axis
    /// starts there.
    int firstStep = 0;
    int lanes = 0;
    QString peakNode;
    QString summary;
    qint64 plannedPeak = 0, lowerBound = 0, noReuse = 0, activationBytes = 0;
    int recomputed = 0;
};

/// Builds the picture of a report; `document` maps its nodes back to the document's.
MemoryPicture memoryPicture(const adj::train::MemoryReport& report, const adj::Graph& document);
QColor memoryBarColour(MemoryBar::Kind kind);

/// The painted part: the live-bytes curve and the lanes of bars.
class MemoryTimeline : public QWidget {
    Q_OBJECT
public:
    explicit MemoryTimeline(QWidget* parent = nullptr);
    void setPicture(const MemoryPicture* picture);
    void highlightNode(adj::NodeId id);
    adj::NodeId highlightedNode() const { return highlighted_; }
    /// Where bar `i` is drawn (widget coordinates): tests point the mouse at it.
    QRectF barRect(std::size_t i) const;
    /// The bar under `p`, -1 for none.
    int barAt(const QPointF& p) const;
    QSize sizeHint() const override { return {640, 320}; }

Q_SIGNALS:
    void nodeHovered(adj::NodeId id);
    void nodeClicked(adj::NodeId id);

protected:
    void paintEvent(QPaintEvent*) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void leaveEvent(QEvent*) override;

private:
    QRectF curveArea() const;
    QRectF laneArea() const;
    double laneHeight() const;
    double xOf(double step) const;
    const MemoryPicture* picture_ = nullptr;
    adj::NodeId highlighted_ = adj::kNoNode;
    int hovered_ = -1;
};

class MemoryView : public QWidget {
    Q_OBJECT
public:
    explicit MemoryView(QWidget* parent = nullptr);

    /// Analyses a copy of `graph` with the chosen pass, policy and order on a worker.
    void request(std::shared_ptr<const adj::Graph> graph);
    /// The same, on the calling thread (tests).
    bool requestNow(std::shared_ptr<const adj::Graph> graph, QString* error = nullptr);
    void setPass(adj::train::MemoryPass pass);
    void setCheckpoint(const QString& policy);  ///< "none", "sqrt", "every:K"
    void setOrder(adj::ScheduleOrder order);
    bool isComputing() const { return compute_.isBusy(); }
    const MemoryPicture& picture() const { return picture_; }
    MemoryTimeline* timeline() const { return timeline_; }
    QString summaryText() const;

public Q_SLOTS:
    void highlightNode(adj::NodeId id);

Q_SIGNALS:
    void nodeHovered(adj::NodeId id);
    void nodeClicked(adj::NodeId id);
    /// A new picture is drawn (or none, after a failure).
    void pictureChanged();
    void failed(const QString& message);

private:
    std::function<MemoryPicture()> computation(std::shared_ptr<const adj::Graph> graph) const;
    adj::train::MemoryRequest currentRequest() const;
    void apply(MemoryPicture&& p);
    QComboBox* pass_;
    QComboBox* checkpoint_;
    QComboBox* order_;
    QLabel* summary_;
    MemoryTimeline* timeline_;
    MemoryPicture picture_;
    std::shared_ptr<const adj::Graph> graph_;
    AsyncAnalysis<MemoryPicture> compute_;
};
