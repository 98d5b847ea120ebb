// The training dashboard stays live while spirals train on the worker: snapshots keep arriving
// with growing step counts, each is shown, they are throttled (a snapshot only when there is news:
// a step, a new boundary, new adjoints or a new status; at most one per refresh tick),
// the decision boundary is redrawn as training goes, and the window's own timers keep firing
// meanwhile. The test asserts that order of events and those counts; how long the event loop is
// held at worst, and how many updates a second the dashboard shows, are figures of
// bench/bench_responsiveness.
#include <QPushButton>
#include <QSignalSpy>
#include <QTimer>
#include <QtTest>
#include <vector>

#include "gui_test_support.h"
#include "test_support.h"

using namespace adj;

class TestTrainingLiveness : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void snapshotsKeepComingWhileTraining() {
        test::SpiralsTraining training(1000000);
        TrainingDashboard& dashboard = training.dashboard;
        TrainingController& controller = training.controller;
        QVERIFY(QTest::qWaitForWindowExposed(&dashboard));

        // What each snapshot says, and how often the window's own 5 ms timer fired before it came.
        struct Seen {
            std::int64_t step;
            int boundaryVersion;
            int probeVersion;
            QString status;
            bool running;
            int ticksBefore;
        };
        std::vector<Seen> seen;
        int ticks = 0;
        QTimer ticker;
        ticker.setInterval(5);
        connect(&ticker, &QTimer::timeout, [&ticks] { ++ticks; });
        connect(&controller, &TrainingController::snapshotReady, [&](const TrainingSnapshot& snap) {
            seen.push_back({snap.step, snap.boundaryVersion, snap.probeVersion, snap.status, snap.running, ticks});
        });
        ticker.start();
        dashboard.startButton()->click();
        constexpr int kSnapshots = 12;
        QVERIFY2(QTest::qWaitFor([&] { return int(seen.size()) >= kSnapshots; }, 60000), "fewer than 12 snapshots in a minute");
        controller.stop();
        ticker.stop();
        const int shown = dashboard.updateCount();

        const Seen& first = seen.front();
        const Seen& last = seen[kSnapshots - 1];
        qInfo("%d snapshots: steps %lld to %lld, boundary versions %d to %d, %d timer ticks, %d dashboard updates",
              kSnapshots, static_cast<long long>(first.step), static_cast<long long>(last.step), first.boundaryVersion,
              last.boundaryVersion, last.ticksBefore, shown);
        for (int i = 1; i < kSnapshots; ++i) {
            QVERIFY2(seen[i].step >= seen[i - 1].step, "the step count went back");
            QVERIFY(seen[i].boundaryVersion >= seen[i - 1].boundaryVersion);
            QVERIFY(seen[i].running);
        }
        // Training advanced, and the snapshots are throttled to news: none repeats the one before
        // (how many steps fit between two depends on the machine's speed, so it is not asserted).
        QVERIFY2(last.step > first.step, "training did not advance");
        for (int i = 1; i < kSnapshots; ++i) {
            const Seen& a = seen[i - 1];
            const Seen& b = seen[i];
            QVERIFY2(b.step != a.step || b.boundaryVersion != a.boundaryVersion || b.probeVersion != a.probeVersion || b.status != a.status,
                     qPrintable(QStringLiteral("snapshot %1 brings nothing new (step %2)").arg(i).arg(b.step)));
        }
        // The decision boundary was evaluated again while training went on.
        QVERIFY2(last.boundaryVersion >= first.boundaryVersion + 2, "the decision boundary was not redrawn");
        // The window served its timers between the snapshots, and showed every snapshot.
        QVERIFY2(last.ticksBefore - first.ticksBefore >= kSnapshots - 1, "the window's timers starved while training ran");
        QVERIFY(shown >= kSnapshots);
    }
};

QTEST_MAIN(TestTrainingLiveness)
#include "tst_training_liveness.moc"
