#pragma once
// MemoryView: where the bytes go (the lecture's memory lesson). For the document's graph, its
// backward graph or its training step, with a checkpoint policy and an execution order
// (train/memory_report.h), it draws every buffer as a bar over the execution order, from the step
// that makes it to its last use (bars packed into lanes that never overlap), the live bytes as a
// curve above them with the peak marked, and the figures: planned peak, lower bound, bytes without
// reuse, activations kept for the backward pass, nodes recomputed, and the tensors live at the
// peak (largest first). Colours: forward values the
// backward pass keeps (orange), other forward values (blue), backward values (green),
// recomputations (purple), graph outputs (grey).
//
// "Compare orders" plans the same graph in the topological order and in the min-peak order
// (runtime/memory_schedule.h) and draws the two timelines one above the other on one byte scale,
// each captioned with its peak: the lecture's point that the order decides the memory.
//
// Linked with the canvas: hovering a bar names its tensor and emits nodeHovered, clicking emits
// nodeClicked (the document's node; a recomputation stands for the node it copies), and
// highlightNode outlines the bars of a node selected elsewhere. request() computes off the GUI
// thread (views/async_analysis.h); a newer request drops an older one's result.
#include <QStringList>
#include <QWidget>
#include <memory>
#include <vector>

#include "async_analysis.h"
#include "train/memory_report.h"

class QCheckBox;
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
    /// The buffers live at the peak step, largest first: "name (size)".
    QStringList livePeak;
    QString summary;
    qint64 plannedPeak = 0, lowerBound = 0, noReuse = 0, activationBytes = 0;
    int recomputed = 0;
    /// With "Compare orders": this picture is the topological order's, `compared` the min-peak
    /// order's; null otherwise.
    std::shared_ptr<const MemoryPicture> compared;
};

/// Builds the picture of a report; `document` maps its nodes back to the document's.
MemoryPicture memoryPicture(const adj::train::MemoryReport& report, const adj::Graph& document);
/// The picture of `request` for `document`; a Backward request of a graph without a scalar output
/// falls back to its training step, else its forward pass (the summary says so). Throws adj::Error.
MemoryPicture memoryPictureOrFallback(const adj::Graph& document, const adj::train::MemoryRequest& request);
QColor memoryBarColour(MemoryBar::Kind kind);

/// The painted part: the live-bytes curve and the lanes of bars.
class MemoryTimeline : public QWidget {
    Q_OBJECT
public:
    explicit MemoryTimeline(QWidget* parent = nullptr);
    void setPicture(const MemoryPicture* picture);
    /// The byte count at the top of the live-bytes curve (two timelines compared share one);
    /// 0: the picture's own largest.
    void setCurveTop(qint64 bytes);
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
    qint64 curveTop_ = 0;
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
    /// Both orders, one above the other (the order choice then has no effect).
    void setCompareOrders(bool on);
    bool isComputing() const { return compute_.isBusy(); }
    const MemoryPicture& picture() const { return picture_; }
    MemoryTimeline* timeline() const { return timeline_; }
    /// The min-peak order's timeline while comparing orders (hidden otherwise).
    MemoryTimeline* comparedTimeline() const { return comparedTimeline_; }
    /// The captions of the two timelines while comparing ("" otherwise).
    QString comparisonText() const;
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
    void showComparison();
    QComboBox* pass_;
    QComboBox* checkpoint_;
    QComboBox* order_;
    QCheckBox* compare_;
    QLabel* summary_;
    QLabel* caption_;
    QLabel* comparedCaption_;
    MemoryTimeline* timeline_;
    MemoryTimeline* comparedTimeline_;
    MemoryPicture picture_;
    std::shared_ptr<const adj::Graph> graph_;
    AsyncAnalysis<MemoryPicture> compute_;
};
