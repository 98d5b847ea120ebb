#pragma once
// PartitionView: the lecture's parallelization lesson (docs/PARALLEL.md). One training step of the
// document's model simulated over a cluster (parallel/strategies.h): a table compares the
// strategies (data, pipeline and tensor parallel; placement by hand when the canvas assigns
// devices), a Gantt timeline shows the chosen one's work on each device and its traffic on each
// link, and the canvas colours each node by its device, with the edges that cross devices drawn
// thick and labelled with their bytes (AnalysisPanels applies picture().deviceOfNode and
// crossEdges).
//
// Placement by hand: "Place selection on" a device writes node meta "device" (through the
// document, undoable) and switches to the placement strategy.
//
// The link-bandwidth slider scales every link of the cluster from 1/64 to 64 times its bandwidth
// and re-runs the simulation as it moves (off the GUI thread, views/async_analysis.h): on the
// lesson example the fastest strategy changes from data parallelism on fast links to the pipeline
// on slow ones.
#include <QWidget>
#include <memory>
#include <vector>

#include "async_analysis.h"
#include "parallel/strategies.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QTableWidget;

/// What the view shows for one request.
struct PartitionPicture {
    /// Every strategy tried, fastest first among those that fit (one when a strategy is chosen).
    std::vector<adj::parallel::PartitionResult> results;
    /// The one drawn: the fastest that fits, or the row the user picked.
    int shown = 0;
    QString clusterText;
    const adj::parallel::PartitionResult* result() const { return results.empty() ? nullptr : &results[std::size_t(shown)]; }
};

/// The Gantt timeline of one simulated step: a row per device (its computations) and a row per
/// link direction that carries traffic; forward, backward, update, all-reduce and activation
/// transfers in their colours, micro-batches numbered; hover names a task.
class PartitionGantt : public QWidget {
    Q_OBJECT
public:
    explicit PartitionGantt(QWidget* parent = nullptr);
    void setResult(const adj::parallel::PartitionResult* result);
    /// The rows drawn: device names, then "gpu0 -> gpu1" for each direction with traffic.
    QStringList rowNames() const;
    /// Where task `i` is drawn (widget coordinates), empty when it is not (no duration).
    QRectF taskRect(std::size_t i) const;
    /// The task under `p`, -1 for none.
    int taskAt(const QPointF& p) const;
    QSize sizeHint() const override { return {720, 220}; }
    static QColor phaseColour(adj::parallel::TaskPhase phase);

protected:
    void paintEvent(QPaintEvent*) override;
    void mouseMoveEvent(QMouseEvent* e) override;

private:
    int rowOf(const adj::parallel::SimTask& t) const;
    QRectF plotArea() const;
    const adj::parallel::PartitionResult* result_ = nullptr;
    std::vector<std::pair<int, int>> linkRows_;  // (link, sending device) per row after the devices
};

class PartitionView : public QWidget {
    Q_OBJECT
public:
    explicit PartitionView(QWidget* parent = nullptr);

    /// Simulates the step of a copy of `graph` with the chosen settings on a worker.
    void request(std::shared_ptr<const adj::Graph> graph);
    /// The same, on the calling thread (tests).
    bool requestNow(std::shared_ptr<const adj::Graph> graph, QString* error = nullptr);
    bool isComputing() const { return compute_.isBusy(); }
    const PartitionPicture& picture() const { return picture_; }

    void setCluster(const QString& preset);
    /// "auto", "dp", "pp", "tp", "placement" (re-runs the simulation on the last graph).
    void setStrategy(const QString& name);
    /// Chooses the strategy and simulates `graph` with it, once.
    void request(std::shared_ptr<const adj::Graph> graph, const QString& strategy);
    void setMicrobatches(int m);
    /// The slider's position: the links' bandwidth is 2^position times the cluster's (-6 to 6).
    void setBandwidthStep(int position);
    double bandwidthFactor() const;

    QSlider* bandwidthSlider() const { return bandwidth_; }
    QTableWidget* table() const { return table_; }
    PartitionGantt* gantt() const { return gantt_; }
    QString summaryText() const;

    /// The device list of the placement row (the cluster's devices, as last simulated).
    QComboBox* placementDevices() const { return placeOn_; }

Q_SIGNALS:
    /// A new picture is drawn (or none, after a failure).
    void pictureChanged();
    void failed(const QString& message);
    /// "Place selection": put the canvas's selected nodes on `device` (a name; empty: take their
    /// placement away). AnalysisPanels does it through the document (one undo step).
    void placeRequested(const QString& device);

private:
    std::function<PartitionPicture()> computation(std::shared_ptr<const adj::Graph> graph) const;
    void apply(PartitionPicture&& p);
    void showResult(int row);
    void rerun();
    QComboBox* cluster_;
    QComboBox* strategy_;
    QSpinBox* devices_;
    QSpinBox* microbatches_;
    QSpinBox* batch_;
    QSlider* bandwidth_;
    QLabel* bandwidthLabel_;
    QComboBox* placeOn_;
    QPushButton* place_;
    QPushButton* unplace_;
    QTableWidget* table_;
    QLabel* summary_;
    PartitionGantt* gantt_;
    PartitionPicture picture_;
    std::shared_ptr<const adj::Graph> graph_;
    AsyncAnalysis<PartitionPicture> compute_;
};
