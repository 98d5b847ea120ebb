#pragma once
// Charts (Qt Charts) in the colours of the application's palette: a dark system palette gives
// dark charts with light text, as the canvases (graph_items.h, setGraphDarkMode). Series keep
// the colours their view gives them.
#include <QPalette>

class QChart;
class QChartView;

/// True for a dark palette (a dark window colour).
bool isDarkPalette(const QPalette& palette);
/// Colours the chart's background, plot area, title, legend and axes from `palette`.
void applyPaletteToChart(QChart* chart, const QPalette& palette);
/// Applies the view's palette to its chart now and whenever the palette changes.
void chartFollowsPalette(QChartView* view);
