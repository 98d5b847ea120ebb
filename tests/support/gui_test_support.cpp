#include "gui_test_support.h"

#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QGraphicsSceneMouseEvent>
#include <QMimeData>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>
#include <QTimer>
#include <algorithm>

#include "analysis_panels.h"
#include "io/json_format.h"
#include "ir/verifier.h"
#include "graph_view.h"
#include "test_support.h"

namespace adj::test {

bool waitForLayout(GraphView& view, int timeoutMs) {
    if (!view.isLayoutPending()) return true;
    QSignalSpy applied(&view, &GraphView::layoutApplied);
    return applied.wait(timeoutMs) || !view.isLayoutPending();
}

GraphView* AnalysisViewSet::request(const std::string& view, std::shared_ptr<const adj::Graph> graph, const adj::MachineModel& machine) {
    if (view == "rewrite") {
        rewrite.request(std::move(graph), RewriteTimeline::StartAt::BusiestStep);
        return rewrite.view();
    }
    if (view == "fusion") {
        fusion.request(std::move(graph));
        return fusion.view();
    }
    if (view == "autodiff") {
        autodiff.requestBackwardOf(std::move(graph));
        return autodiff.backwardView();
    }
    if (view != "roofline") qFatal("AnalysisViewSet: no view '%s'", view.c_str());
    roofline.request(std::move(graph), [machine] { return machine; });
    return nullptr;
}

bool AnalysisViewSet::isComputing(const std::string& view) const {
    if (view == "rewrite") return rewrite.isComputing();
    if (view == "fusion") return fusion.isComputing();
    if (view == "autodiff") return autodiff.isComputing();
    return roofline.isComputing();
}

SpiralsTraining::SpiralsTraining(std::int64_t steps) {
    adj::Graph model = adj::loadGraphJson(sourcePath("resources/examples/spirals_mlp.json"));
    adj::verifyGraph(model);
    dashboard.resize(1200, 450);
    dashboard.show();
    controller.attach(&dashboard);
    controller.setModel(model);
    TrainingSettings s;
    s.dataset = QStringLiteral("spirals");
    s.steps = steps;
    dashboard.setSettings(s);
}

bool timerFires(int ticks, int intervalMs) {
    int fired = 0;
    QTimer ticker;
    ticker.setInterval(intervalMs);
    QObject::connect(&ticker, &QTimer::timeout, [&fired] { ++fired; });
    ticker.start();
    return QTest::qWaitFor([&fired, ticks] { return fired >= ticks; }, std::max(10000, 10 * ticks * intervalMs));
}

void sceneMouse(QGraphicsScene* scene, QEvent::Type type, const QPointF& pos, const QPointF& downPos) {
    QGraphicsSceneMouseEvent e(type);
    e.setScenePos(pos);
    e.setLastScenePos(pos);
    e.setButtonDownScenePos(Qt::LeftButton, downPos);
    e.setButton(type == QEvent::GraphicsSceneMouseMove ? Qt::NoButton : Qt::LeftButton);
    e.setButtons(type == QEvent::GraphicsSceneMouseRelease ? Qt::NoButton : Qt::LeftButton);
    QApplication::sendEvent(scene, &e);
}

void sceneDrag(QGraphicsScene* scene, const QPointF& from, const QPointF& to) {
    sceneMouse(scene, QEvent::GraphicsSceneMousePress, from, from);
    sceneMouse(scene, QEvent::GraphicsSceneMouseMove, (from + to) / 2, from);
    sceneMouse(scene, QEvent::GraphicsSceneMouseMove, to, from);
    sceneMouse(scene, QEvent::GraphicsSceneMouseRelease, to, from);
}

void sceneDoubleClick(QGraphicsScene* scene, const QPointF& pos) {
    sceneMouse(scene, QEvent::GraphicsSceneMousePress, pos, pos);
    sceneMouse(scene, QEvent::GraphicsSceneMouseRelease, pos, pos);
    sceneMouse(scene, QEvent::GraphicsSceneMouseDoubleClick, pos, pos);
    sceneMouse(scene, QEvent::GraphicsSceneMouseRelease, pos, pos);
}

bool dropOn(QWidget* widget, const QPoint& pos, QMimeData* mime) {
    QDragEnterEvent enter(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(widget, &enter);
    if (!enter.isAccepted()) return false;
    QDropEvent drop(QPointF(pos), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(widget, &drop);
    return drop.isAccepted();
}

AnalysisWindow::AnalysisWindow(QSize size) : canvas(new GraphView(&window)) {
    window.setCentralWidget(canvas);
    window.resize(size);
}

bool AnalysisWindow::openExample(const std::string& name, QString* error) {
    if (!document.load(QString::fromStdString(sourcePath("resources/examples/" + name + ".json")), error)) return false;
    canvas->showGraph(document.graph());
    return true;
}

AnalysisPanels* AnalysisWindow::installPanels() {
    panels = installAnalysisPanels(&window, &document, canvas, &menu);
    return panels;
}

void isolateApplication(const QString& dir, const char* application) {
    QStandardPaths::setTestModeEnabled(true);
    qputenv("ADJOINT_RECOVERY_DIR", QByteArray(dir.toUtf8() + "/recovery"));
    qputenv("XDG_CONFIG_HOME", QByteArray(dir.toUtf8() + "/config"));
    qputenv("XDG_CACHE_HOME", QByteArray(dir.toUtf8() + "/cache"));
    QCoreApplication::setOrganizationName("AdjointTest");
    QCoreApplication::setApplicationName(application);
}

}  // namespace adj::test
