// Each analysis view of an example, rendered under the offscreen platform to a PNG: the picture
// must not be blank (many distinct colours, much of it not background), and it must show what
// the view is for, as pixels of the colours it draws them in: node boxes of at least two kinds
// (their category fills) on the canvases, the roofline's dots in their series' colours, the
// training data's points in both class colours. The PNGs go to $ADJOINT_SCREENSHOT_DIR when it
// is set, kept there for a person to look at (else to a temporary directory, removed at exit).
#include <QDockWidget>
#include <QMainWindow>
#include <QMenu>
#include <QSet>
#include <QSignalSpy>
#include <QtTest>

#include <QScatterSeries>
#include <QtCharts/QChart>

#include "analysis_panels.h"
#include "memory_view.h"
#include "graph_items.h"
#include "heatmap.h"
#include "io/graphviz.h"
#include "roofline_chart.h"
#include "training_dashboard.h"
#include "graph_document.h"
#include "graph_view.h"
#include "gui_test_support.h"
#include "test_support.h"
#include "training_controller.h"

using namespace adj;

namespace {
struct Coverage {
    int colours = 0;
    double nonBackground = 0;
};

Coverage coverage(const QImage& image) {
    QSet<QRgb> colours;
    QHash<QRgb, int> counts;
    int samples = 0;
    for (int y = 0; y < image.height(); y += 2)
        for (int x = 0; x < image.width(); x += 2) {
            const QRgb p = image.pixel(x, y);
            colours.insert(p);
            ++counts[p];
            ++samples;
        }
    int top = 0;
    for (int c : counts) top = std::max(top, c);
    return {int(colours.size()), samples ? 1.0 - double(top) / samples : 0};
}
// Pixels (every one of the image) exactly of `colour`: the inside of a shape filled with it.
int pixelsOf(const QImage& image, const QColor& colour) {
    const QRgb want = colour.rgb();
    int n = 0;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x) n += (image.pixel(x, y) | 0xff000000u) == (want | 0xff000000u);
    return n;
}

// The node categories whose fill shows in at least `minPixels` pixels.
QStringList categoriesShown(const QImage& image, int minPixels) {
    QStringList shown;
    for (int c = 0; c <= int(NodeCategory::Other); ++c)
        if (pixelsOf(image, graphFillColour(NodeCategory(c))) >= minPixels)
            shown << QString::fromUtf8(nodeCategoryName(NodeCategory(c)).data(), qsizetype(nodeCategoryName(NodeCategory(c)).size()));
    return shown;
}
}  // namespace

class TestViewScreenshots : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qputenv("XDG_CACHE_HOME", QByteArray::fromStdString(test::tempDir())); }

    void render_data() {
        QTest::addColumn<QString>("view");
        QTest::addColumn<QString>("example");
        QTest::newRow("autodiff") << "autodiff" << "mlp";
        QTest::newRow("rewrite") << "rewrite" << "attention";
        QTest::newRow("fusion") << "fusion" << "elementwise_chain";
        QTest::newRow("roofline") << "roofline" << "attention";
        QTest::newRow("memory") << "memory" << "attention";
        QTest::newRow("partition") << "partition" << "partition_lesson";
        QTest::newRow("training") << "training" << "spirals_mlp";
    }
    void render() {
        QFETCH(QString, view);
        QFETCH(QString, example);
        test::AnalysisWindow harness(QSize(1400, 900));
        QMainWindow& window = harness.window;
        QString error;
        QVERIFY2(harness.openExample(example.toStdString(), &error), qPrintable(error));
        AnalysisPanels* panels = harness.installPanels();
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy ready(panels, &AnalysisPanels::viewReady);
        panels->setTrainingStartsWhenShown(true);  // the picture shows a run
        QVERIFY2(panels->showView(view, &error), qPrintable(error));
        QVERIFY(ready.count() == 1 || ready.wait(60000));
        QCOMPARE(ready.front().front().toString(), view);
        QTest::qWait(100);
        const QImage image = panels->dock(view)->widget()->grab().toImage();
        const QString dir = qEnvironmentVariableIsEmpty("ADJOINT_SCREENSHOT_DIR") ? QString::fromStdString(test::tempDir())
                                                                                  : qEnvironmentVariable("ADJOINT_SCREENSHOT_DIR");
        const QString path = dir + QStringLiteral("/view_%1.png").arg(view);
        QVERIFY(image.save(path));
        const Coverage c = coverage(image);
        qInfo("%s: %dx%d, %d colours, %.0f%% not background -> %s", qPrintable(view), image.width(), image.height(), c.colours,
              100 * c.nonBackground, qPrintable(path));
        QVERIFY2(image.width() > 300 && image.height() > 200, "the dock is too small");
        QVERIFY2(c.colours > 40, qPrintable(QStringLiteral("%1 colours").arg(c.colours)));
        QVERIFY2(c.nonBackground > 0.05, qPrintable(QStringLiteral("%1 non-background").arg(c.nonBackground)));
        if (view == "roofline") {
            int dotPixels = 0;
            for (QAbstractSeries* series : panels->rooflineChart()->chart()->series())
                if (auto* dots = qobject_cast<QScatterSeries*>(series); dots && dots->count() > 0) dotPixels += pixelsOf(image, dots->color());
            qInfo("roofline: %d pixels of dots", dotPixels);
            QVERIFY2(dotPixels >= 40, qPrintable(QStringLiteral("%1 pixels of dots").arg(dotPixels)));
        } else if (view == "memory") {
            int barPixels = 0;
            for (auto kind : {MemoryBar::Kind::Kept, MemoryBar::Kind::Forward, MemoryBar::Kind::Backward, MemoryBar::Kind::Output})
                barPixels += pixelsOf(image, memoryBarColour(kind));
            qInfo("memory: %d pixels of bars", barPixels);
            QVERIFY2(barPixels >= 2000, qPrintable(QStringLiteral("%1 pixels of bars").arg(barPixels)));
        } else if (view == "training") {
            for (int k : {0, 1}) {
                const int n = pixelsOf(image, classColour(k));
                qInfo("training: %d pixels of class %d", n, k);
                QVERIFY2(n >= 30, qPrintable(QStringLiteral("class %1: %2 pixels").arg(k).arg(n)));
            }
        } else {
            const QStringList shown = categoriesShown(image, 30);
            qInfo("%s: node boxes of %s", qPrintable(view), qPrintable(shown.join(", ")));
            QVERIFY2(shown.size() >= 2, qPrintable(QStringLiteral("node boxes shown: %1").arg(shown.join(", "))));
        }
        panels->trainingController()->stop();
    }
};

QTEST_MAIN(TestViewScreenshots)
#include "tst_view_screenshots.moc"
