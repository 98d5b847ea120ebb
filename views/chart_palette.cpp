#include "chart_palette.h"

#include <QAbstractAxis>
#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QLegend>

namespace {
class PaletteFollower : public QObject {
public:
    explicit PaletteFollower(QChartView* view) : QObject(view), view_(view) {}
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (watched == view_ && event->type() == QEvent::PaletteChange) applyPaletteToChart(view_->chart(), view_->palette());
        return false;
    }

private:
    QChartView* view_;
};
}  // namespace

bool isDarkPalette(const QPalette& palette) { return palette.color(QPalette::Window).lightness() < 110; }

void applyPaletteToChart(QChart* chart, const QPalette& palette) {
    if (!chart) return;
    const bool dark = isDarkPalette(palette);
    const QColor text = palette.color(QPalette::WindowText);
    const QColor grid = dark ? QColor(0x4a, 0x50, 0x5a) : QColor(0xd8, 0xdc, 0xe2);
    const QColor line = dark ? QColor(0x9a, 0xa2, 0xae) : QColor(0x60, 0x66, 0x70);
    chart->setBackgroundBrush(palette.color(QPalette::Base));
    chart->setPlotAreaBackgroundVisible(false);
    chart->setTitleBrush(text);
    chart->legend()->setLabelColor(text);
    for (QAbstractAxis* axis : chart->axes()) {
        axis->setLabelsColor(text);
        axis->setTitleBrush(text);
        axis->setLinePenColor(line);
        axis->setGridLineColor(grid);
        axis->setMinorGridLineColor(grid.lighter(dark ? 80 : 108));
    }
}

void chartFollowsPalette(QChartView* view) {
    applyPaletteToChart(view->chart(), view->palette());
    view->installEventFilter(new PaletteFollower(view));
}
