// The training dashboard and its controller: a run on spirals trains off the GUI thread and
// updates the curves and the decision boundary; pause, stop and reset; problems reported.
#include <QComboBox>
#include <QLabel>
#include <QStandardItemModel>
#include <QLineSeries>
#include <QPushButton>
#include <QSpinBox>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

#include "gui_test_support.h"
#include "heatmap.h"
#include "io/json_format.h"
#include "ir/verifier.h"
#include "test_support.h"
#include "training_controller.h"
#include "training_dashboard.h"
#include "runtime/vulkan/vk_check.h"

using namespace adj;

namespace {
Graph example(const std::string& name) {
    Graph g = loadGraphJson(test::sourcePath("resources/examples/" + name + ".json"));
    verifyGraph(g);
    return g;
}
}  // namespace

class TestTrainingDashboard : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void trainsSpirals() {
        TrainingDashboard dashboard;
        dashboard.resize(1200, 500);
        dashboard.show();
        TrainingController controller;
        controller.attach(&dashboard);
        controller.setModel(example("spirals_mlp"));
        TrainingSettings s;
        s.dataset = QStringLiteral("spirals");
        s.steps = 400;
        s.learningRate = 0.02;
        dashboard.setSettings(s);
        QCOMPARE(dashboard.settings().steps, 400);
        QSignalSpy finished(&controller, &TrainingController::finished);
        QSignalSpy failed(&controller, &TrainingController::failed);
        dashboard.startButton()->click();
        QVERIFY(controller.isRunning() || finished.count() == 1);
        QVERIFY(finished.wait(120000));
        QCOMPARE(failed.count(), 0);
        QVERIFY(!controller.isRunning());
        QVERIFY(dashboard.updateCount() >= 1);
        const QList<QPointF> loss = dashboard.lossSeries()->points();
        QVERIFY(loss.size() >= 2);
        QCOMPARE(loss.back().x(), 400.0);
        // Adam on spirals: the loss falls.
        double first = 0, last = 0;
        for (int i = 0; i < 10; ++i) {
            first += loss[i].y();
            last += loss[loss.size() - 1 - i].y();
        }
        QVERIFY2(last < first, qPrintable(QStringLiteral("loss %1 -> %2").arg(first / 10).arg(last / 10)));
        QVERIFY(dashboard.accuracySeries()->count() == loss.size());
        QVERIFY(dashboard.boundaryUpdateCount() >= 1);
        QCOMPARE(dashboard.boundaryView()->image().size(), QSize(TrainingController::kBoundaryGrid, TrainingController::kBoundaryGrid));
        QVERIFY(dashboard.boundaryView()->pointCount() > 100);
        QVERIFY2(dashboard.statusLabel()->text().contains(QStringLiteral("Finished 400 steps")), qPrintable(dashboard.statusLabel()->text()));
        QVERIFY(dashboard.startButton()->isEnabled());

        dashboard.resetButton()->click();
        QCOMPARE(dashboard.lossSeries()->count(), 0);
        QVERIFY(dashboard.boundaryView()->image().isNull());
    }

    void pauseAndStop() {
        TrainingController controller;
        controller.setModel(example("spirals_mlp"));
        TrainingSettings s;
        s.steps = 1000000;
        QSignalSpy snapshots(&controller, &TrainingController::snapshotReady);
        controller.start(s);
        QTRY_VERIFY_WITH_TIMEOUT(snapshots.count() >= 2, 30000);
        controller.setPaused(true);
        QVERIFY(controller.isPaused());
        // The worker says so once no step is in flight: "Paused at step N", N the last step taken.
        auto latest = [&snapshots] { return snapshots.back().front().value<TrainingSnapshot>(); };
        QTRY_VERIFY_WITH_TIMEOUT(latest().status.startsWith(QStringLiteral("Paused at step")), 30000);
        const std::int64_t pausedAt = latest().step;
        QVERIFY2(latest().status == QStringLiteral("Paused at step %1").arg(pausedAt), qPrintable(latest().status));
        // However long the window then runs (20 of its timer's ticks, each a poll of the
        // controller's), no step is taken: nothing newer arrives.
        snapshots.clear();
        QVERIFY(test::timerFires(20, 50));
        for (const auto& args : snapshots) QCOMPARE(args.front().value<TrainingSnapshot>().step, pausedAt);
        controller.setPaused(false);
        QTRY_VERIFY_WITH_TIMEOUT(!snapshots.isEmpty() && latest().step > pausedAt, 30000);
        QVERIFY2(latest().status.startsWith(QStringLiteral("Training")), qPrintable(latest().status));
        controller.stop();
        QVERIFY(!controller.isRunning());
        const TrainingSnapshot last = snapshots.back().front().value<TrainingSnapshot>();
        QVERIFY(!last.running);
        QVERIFY(last.status.contains(QStringLiteral("Stopped")));
    }

    // A class watches training at a speed it can follow (the issue: 3,000 steps were over in 0.6 s):
    // at 20 steps a second no more steps are taken than the time allows; Step takes exactly one
    // step of a paused run, and from nothing it starts a run paused at step 1.
    void speedLimitAndOneStepAtATime() {
        TrainingDashboard dashboard;
        TrainingController controller;
        controller.attach(&dashboard);
        controller.setModel(example("spirals_mlp"));
        QSignalSpy snapshots(&controller, &TrainingController::snapshotReady);
        auto latest = [&snapshots] { return snapshots.back().front().value<TrainingSnapshot>(); };
        dashboard.stepsBox()->setValue(1000000);
        dashboard.speedChoice()->setCurrentIndex(dashboard.speedChoice()->findData(20));
        QCOMPARE(dashboard.settings().stepsPerSecond, 20);
        QElapsedTimer clock;
        clock.start();
        dashboard.startButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(!snapshots.isEmpty() && latest().step >= 5, 30000);
        // (an upper bound only: a slow machine takes fewer steps, never more)
        QVERIFY(test::timerFires(10, 50));
        const std::int64_t step = latest().step;
        const double seconds = double(clock.elapsed()) / 1000.0;
        QVERIFY2(double(step) <= 20.0 * seconds + 2, qPrintable(QString("%1 steps in %2 s").arg(step).arg(seconds)));
        // faster, while it runs
        dashboard.speedChoice()->setCurrentIndex(dashboard.speedChoice()->findData(0));
        QTRY_VERIFY_WITH_TIMEOUT(latest().step > step + 100, 30000);
        controller.stop();

        // Step from nothing: a run paused after its first step
        snapshots.clear();
        dashboard.stepButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(!snapshots.isEmpty() && latest().status == QStringLiteral("Paused at step 1"), 30000);
        QVERIFY(dashboard.pauseButton()->isChecked());
        for (int k = 2; k <= 4; ++k) {
            dashboard.stepButton()->click();
            QTRY_VERIFY_WITH_TIMEOUT(latest().status == QStringLiteral("Paused at step %1").arg(k), 30000);
        }
        QVERIFY(test::timerFires(10, 50));
        QCOMPARE(latest().step, std::int64_t(4));  // and no further
        dashboard.pauseButton()->click();  // released: it runs on
        QTRY_VERIFY_WITH_TIMEOUT(latest().step > 4, 30000);
        controller.stop();
    }

    void problemsAreReported_data() {
        QTest::addColumn<QString>("example");
        QTest::addColumn<QString>("dataset");
        QTest::addColumn<QString>("backend");
        QTest::addColumn<QString>("expected");
        QTest::newRow("model does not fit the data") << "digits_mlp" << "spirals" << "CPU" << "feature";
        QTest::newRow("two inputs") << "mlp" << "spirals" << "CPU" << "input";
        QTest::newRow("unknown backend") << "spirals_mlp" << "spirals" << "Metal" << "unknown backend";
    }
    void problemsAreReported() {
        QFETCH(QString, example);
        QFETCH(QString, dataset);
        QFETCH(QString, backend);
        QFETCH(QString, expected);
        TrainingDashboard dashboard;
        TrainingController controller;
        controller.attach(&dashboard);
        controller.setModel(::example(example.toStdString()));
        TrainingSettings s;
        s.dataset = dataset;
        s.backend = backend;
        QSignalSpy failed(&controller, &TrainingController::failed);
        controller.start(s);
        QVERIFY(failed.count() == 1 || failed.wait(30000));
        const QString message = failed.front().front().toString();
        QVERIFY2(message.contains(expected, Qt::CaseInsensitive), qPrintable(message));
        QVERIFY(dashboard.statusLabel()->text().contains(QStringLiteral("Error")));
        QTRY_VERIFY(!controller.isRunning());
    }

    void vulkanProbeWaitsUntilTheDashboardIsShown() {
        TrainingController controller;
        {
            TrainingDashboard hidden;
            controller.attach(&hidden);
            QTest::qWait(50);
            QVERIFY(!controller.deviceProbeStarted());
        }
        TrainingDashboard dashboard;
        controller.attach(&dashboard);
        QVERIFY(!controller.deviceProbeStarted());
        dashboard.show();
        QVERIFY(controller.deviceProbeStarted());
        // the controller is destroyed with the probe possibly still running: it must exit cleanly
    }

    void vulkanBackendIsProbed() {
        TrainingDashboard dashboard;
        TrainingController controller;
        controller.attach(&dashboard);
        dashboard.show();
        auto* model = qobject_cast<QStandardItemModel*>(dashboard.backendChoice()->model());
        QVERIFY(model);
        QStandardItem* vulkan = model->findItems(QStringLiteral("Vulkan")).value(0);
        QVERIFY(vulkan);
        // The probe runs off the GUI thread; the choice says what it found either way.
        QTRY_VERIFY_WITH_TIMEOUT(!vulkan->toolTip().startsWith(QStringLiteral("Looking")), 60000);
        if (!vulkan->isEnabled()) {
            QVERIFY2(vulkan->toolTip().contains(QStringLiteral("No usable Vulkan device")), qPrintable(vulkan->toolTip()));
            return;
        }
        // A software driver (lavapipe reports itself as "llvmpipe ...") is said to be one.
        if (vulkan->toolTip().contains(QStringLiteral("llvmpipe")))
            QVERIFY2(vulkan->toolTip().contains(QStringLiteral("software driver")), qPrintable(vulkan->toolTip()));
        // A device was found: a short run trains on it.
        controller.setModel(example("spirals_mlp"));
        TrainingSettings s;
        s.backend = QStringLiteral("Vulkan");
        s.steps = 60;
        QSignalSpy finished(&controller, &TrainingController::finished);
        QSignalSpy failed(&controller, &TrainingController::failed);
        controller.start(s);
        QVERIFY(finished.count() == 1 || finished.wait(120000));
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.front().front().toString()));
        QCOMPARE(dashboard.lossSeries()->points().back().x(), 60.0);
    }

    void deviceLostMidRunTheCpuTakesOver() {
        TrainingDashboard dashboard;
        TrainingController controller;
        controller.attach(&dashboard);
        controller.setModel(example("spirals_mlp"));
        dashboard.show();
        auto* model = qobject_cast<QStandardItemModel*>(dashboard.backendChoice()->model());
        QStandardItem* vulkan = model->findItems(QStringLiteral("Vulkan")).value(0);
        QVERIFY(vulkan);
        // lavapipe in CI (mesa-vulkan-drivers): no device here is a failure, not a skip
        QTRY_VERIFY2_WITH_TIMEOUT(vulkan->isEnabled(), qPrintable(vulkan->toolTip()), 60000);
        dashboard.backendChoice()->setCurrentText(QStringLiteral("Vulkan"));
        dashboard.stepsBox()->setValue(80);
        std::int64_t lastStep = 0;
        connect(&controller, &TrainingController::snapshotReady, this, [&lastStep](const TrainingSnapshot& s) { lastStep = s.step; });
        QSignalSpy finished(&controller, &TrainingController::finished);
        QSignalSpy failed(&controller, &TrainingController::failed);
        QTest::mouseClick(dashboard.startButton(), Qt::LeftButton);
        QVERIFY(QTest::qWaitFor([&] { return lastStep >= 3 || !finished.isEmpty(); }, 120000));
        QVERIFY2(finished.isEmpty(), "the run ended before the device could fail");
        vk::injectSubmitFailure(1);  // lost at the next submission, and stays lost
        const bool done = finished.count() == 1 || finished.wait(120000);
        vk::injectSubmitFailure(0);
        QVERIFY(done);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.front().front().toString()));
        QCOMPARE(dashboard.lossSeries()->points().back().x(), 80.0);  // every step, on the CPU from the failure on
        // The finished run's status says that the CPU took over, from which step and why.
        const QString status = dashboard.statusLabel()->text();
        QVERIFY2(status.contains(QStringLiteral("Finished 80 steps")) && status.contains(QStringLiteral("on the CPU from step")) &&
                     status.contains(QStringLiteral("VK_ERROR_DEVICE_LOST")),
                 qPrintable(status));
    }

    void heatmapOfATensor() {
        const Tensor t = Tensor::fromVector({2, 3}, {-2, 0, 2, 1, -1, 0});
        const QImage image = tensorHeatmap(t);
        QCOMPARE(image.size(), QSize(3, 2));
        QCOMPARE(QColor(image.pixel(2, 0)), QColor(255, 0, 0));   // the largest positive: red
        QCOMPARE(QColor(image.pixel(0, 0)), QColor(0, 0, 255));   // the largest negative: blue
        QCOMPARE(QColor(image.pixel(1, 0)), QColor(255, 255, 255));
    }
};

QTEST_MAIN(TestTrainingDashboard)
#include "tst_training_dashboard.moc"
