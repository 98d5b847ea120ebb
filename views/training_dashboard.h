#pragma once
// TrainingDashboard: the controls of a training run (dataset, loss, optimizer, learning rate,
// batch, steps, backend; start, pause, stop, reset), the loss and accuracy curves (Qt Charts)
// and, for 2-D datasets, the decision boundary as a heatmap under the data points. It computes
// nothing: it asks for runs through its signals and draws the TrainingSnapshots a controller
// (app/gui/training_controller) sends, at most a few dozen times a second.
#include <QImage>
#include <QRectF>
#include <QString>
#include <QWidget>
#include <map>
#include <vector>

#include "ir/graph.h"

class HeatmapWidget;
class QChartView;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineSeries;
class QPushButton;
class QSpinBox;
class QValueAxis;

struct TrainingSettings {
    QString dataset = QStringLiteral("spirals");
    QString loss = QStringLiteral("cross-entropy");
    QString optimizer = QStringLiteral("adam");
    double learningRate = 0.01;
    int batchSize = 64;
    int steps = 3000;
    QString backend = QStringLiteral("CPU");
    /// Steps a second at most (0: as fast as it goes): slow enough to watch in a classroom.
    int stepsPerSecond = 0;
};

struct TrainingSnapshot {
    /// (step, value), already thinned to a few hundred points.
    std::vector<QPointF> loss;
    std::vector<QPointF> accuracy;
    std::int64_t step = 0;
    std::int64_t totalSteps = 0;
    double stepsPerSecond = 0;
    /// The decision boundary over `domain` (empty for datasets that are not 2-D) and its version,
    /// which grows with each new evaluation.
    QImage boundary;
    QRectF domain;
    int boundaryVersion = 0;
    std::vector<QPointF> points;
    std::vector<int> classes;
    /// Live adjoints: mean |adjoint| of each forward value of the model (ids of the model graph),
    /// and every value of the model, on a fixed probe batch; refreshed a few times a second
    /// (probeVersion grows with each).
    std::map<adj::ValueRef, double> adjointMagnitudes;
    std::map<adj::NodeId, adj::Tensor> values;
    int probeVersion = 0;
    bool running = false;
    bool paused = false;
    QString status;
};

class TrainingDashboard : public QWidget {
    Q_OBJECT
public:
    explicit TrainingDashboard(QWidget* parent = nullptr);

    TrainingSettings settings() const;
    void setSettings(const TrainingSettings& settings);
    /// Enables or disables a backend choice, with the reason shown as its tooltip.
    void setBackendAvailable(const QString& backend, bool available, const QString& reason);

    /// Snapshots drawn so far, and how many of them brought a new decision boundary.
    int updateCount() const { return updates_; }
    int boundaryUpdateCount() const { return boundaryUpdates_; }
    QLineSeries* lossSeries() const { return loss_; }
    QLineSeries* accuracySeries() const { return accuracy_; }
    HeatmapWidget* boundaryView() const { return boundary_; }
    HeatmapWidget* tensorView() const { return tensor_; }
    QLabel* statusLabel() const { return status_; }
    QComboBox* backendChoice() const { return backend_; }
    QPushButton* startButton() const { return start_; }
    QPushButton* stepButton() const { return step_; }
    QComboBox* speedChoice() const { return speed_; }
    QPushButton* pauseButton() const { return pause_; }
    QPushButton* stopButton() const { return stop_; }
    QPushButton* resetButton() const { return reset_; }
    QSpinBox* stepsBox() const { return steps_; }

public Q_SLOTS:
    void showSnapshot(const TrainingSnapshot& snapshot);
    void showError(const QString& message);
    /// Shows a tensor's values as a heatmap (hover a node of the canvas during training).
    void showTensor(const QString& title, const adj::Tensor& tensor);
    void clearCurves();

Q_SIGNALS:
    void startRequested(const TrainingSettings& settings);
    void pauseRequested(bool paused);
    void stopRequested();
    void resetRequested();
    /// The speed was changed (steps a second, 0: as fast as it goes), also while training.
    void speedRequested(int stepsPerSecond);
    /// One more step of a paused run (Step pauses a running one first).
    void stepRequested();

private:
    QComboBox* dataset_;
    QComboBox* lossKind_;
    QComboBox* optimizer_;
    QDoubleSpinBox* lr_;
    QSpinBox* batch_;
    QSpinBox* steps_;
    QComboBox* backend_;
    QPushButton* start_;
    QPushButton* step_;  // one step, paused before and after
    QComboBox* speed_;   // steps a second (item data; 0: as fast as it goes)
    QPushButton* pause_;
    QPushButton* stop_;
    QPushButton* reset_;
    QLabel* status_;
    QChartView* lossView_;
    QChartView* accuracyView_;
    QLineSeries* loss_;
    QLineSeries* accuracy_;
    QValueAxis* lossX_;
    QValueAxis* lossY_;
    QValueAxis* accX_;
    HeatmapWidget* boundary_;
    HeatmapWidget* tensor_;
    int updates_ = 0;
    int boundaryUpdates_ = 0;
    int boundaryVersion_ = -1;
};
