// Each analysis view of an example, rendered under the offscreen platform to a PNG: the picture
// must not be blank (many distinct colours, much of it not background). The PNGs are left in a
// temporary directory (printed) for a person to look at.
#include <QDockWidget>
#include <QMainWindow>
#include <QMenu>
#include <QSet>
#include <QSignalSpy>
#include <QtTest>

#include "analysis_panels.h"
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
        QVERIFY2(panels->showView(view, &error), qPrintable(error));
        QVERIFY(ready.count() == 1 || ready.wait(60000));
        QCOMPARE(ready.front().front().toString(), view);
        QTest::qWait(100);
        const QImage image = panels->dock(view)->widget()->grab().toImage();
        const QString path = QString::fromStdString(test::tempDir()) + QStringLiteral("/view_%1.png").arg(view);
        QVERIFY(image.save(path));
        const Coverage c = coverage(image);
        qInfo("%s: %dx%d, %d colours, %.0f%% not background -> %s", qPrintable(view), image.width(), image.height(), c.colours,
              100 * c.nonBackground, qPrintable(path));
        QVERIFY2(image.width() > 300 && image.height() > 200, "the dock is too small");
        QVERIFY2(c.colours > 40, qPrintable(QStringLiteral("%1 colours").arg(c.colours)));
        QVERIFY2(c.nonBackground > 0.05, qPrintable(QStringLiteral("%1 non-background").arg(c.nonBackground)));
        panels->trainingController()->stop();
    }
};

QTEST_MAIN(TestViewScreenshots)
#include "tst_view_screenshots.moc"
