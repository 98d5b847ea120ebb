#pragma once
// CostPanel: the lecture's forward-vs-reverse trade-off as a table (passes, FLOPs, peak memory
// per mode for the whole Jacobian) and the size of the backward graph against the forward one.
#include <QWidget>

#include "autodiff/mode_costs.h"

class QLabel;
class QTableWidget;

class CostPanel : public QWidget {
    Q_OBJECT
public:
    explicit CostPanel(QWidget* parent = nullptr);
    void setReport(const adj::AutodiffCostReport& report);
    void clear();
    QTableWidget* table() const { return table_; }
    QLabel* summary() const { return summary_; }

private:
    QTableWidget* table_;
    QLabel* summary_;
};

/// "1.2 MFLOP", "3.4 kB": engineering notation with a unit.
QString formatQuantity(double value, const QString& unit);
/// The same with a sign: "+1.2 MFLOP", "-3.4 kB" (a change).
QString signedQuantity(double value, const QString& unit);
