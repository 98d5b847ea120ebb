#include "cost_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <iterator>

QString signedQuantity(double value, const QString& unit) {
    return (value > 0 ? QStringLiteral("+") : QString()) + formatQuantity(value, unit);
}

QString formatQuantity(double value, const QString& unit) {
    static const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
    int p = 0;
    double v = std::fabs(value);
    while (v >= 1000 && p < 5) {
        v /= 1000;
        ++p;
    }
    const double shown = value < 0 ? -v : v;
    return QStringLiteral("%1 %2%3").arg(shown, 0, 'g', 3).arg(QString::fromLatin1(prefixes[p]), unit);
}

CostPanel::CostPanel(QWidget* parent) : QWidget(parent), table_(new QTableWidget(this)), summary_(new QLabel(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    summary_->setWordWrap(true);
    summary_->setTextFormat(Qt::RichText);
    layout->addWidget(summary_);
    table_->setColumnCount(4);
    table_->setHorizontalHeaderLabels({tr("Mode (whole Jacobian)"), tr("Passes"), tr("FLOPs"), tr("Peak memory / pass")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    layout->addWidget(table_);
}

void CostPanel::clear() {
    table_->setRowCount(0);
    summary_->clear();
}

void CostPanel::setReport(const adj::AutodiffCostReport& r) {
    struct Row {
        QString name;
        adj::ModeCost cost;
    };
    const Row rows[] = {
        {tr("Reverse (VJP, one per output)"), r.reverseMode},
        {tr("Forward (JVP, one per input)"), r.forwardMode},
        {tr("Forward, vectorized (n directions)"), r.forwardVectorized},
        {tr("Central differences"), r.numeric},
    };
    table_->setRowCount(int(std::size(rows)));
    double best = r.reverseMode.flops;
    for (const Row& row : rows) best = std::min(best, row.cost.flops);
    for (int i = 0; i < int(std::size(rows)); ++i) {
        const Row& row = rows[i];
        auto set = [&](int col, const QString& text) {
            auto* item = new QTableWidgetItem(text);
            if (col > 0) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (row.cost.flops == best) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            table_->setItem(i, col, item);
        };
        set(0, row.name);
        set(1, QString::number(row.cost.passes));
        set(2, formatQuantity(row.cost.flops, QStringLiteral("FLOP")));
        set(3, formatQuantity(row.cost.peakBytes, QStringLiteral("B")));
    }
    const double ratio = r.forwardNodes ? double(r.backwardNodes) / double(r.forwardNodes) : 0.0;
    summary_->setText(tr("<b>f: R<sup>%1</sup> → R<sup>%2</sup></b> &nbsp; one forward pass: %3, %4 moved.<br>"
                         "Backward graph: %5 nodes added to %6 forward nodes (ratio %7).")
                          .arg(r.inputs)
                          .arg(r.outputs)
                          .arg(formatQuantity(r.forwardPass.flops, QStringLiteral("FLOP")),
                               formatQuantity(r.forwardPass.bytes(), QStringLiteral("B")))
                          .arg(r.backwardNodes)
                          .arg(r.forwardNodes)
                          .arg(ratio, 0, 'f', 2));
}
