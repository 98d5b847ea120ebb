#pragma once
// The window's colours: the system's palette (what Qt found at start: a dark desktop gives dark
// windows, and the canvases and charts follow, views/graph_items.h and chart_palette.h), or a
// light or dark one chosen in View > Theme (remembered in QSettings "theme").
#include <QPalette>
#include <QString>

enum class Theme { System, Light, Dark };

/// The palette the application had before any theme was applied (read once, at the first call).
QPalette systemPalette();
/// The palette of a theme.
QPalette themePalette(Theme theme);
QString themeName(Theme theme);
/// "system", "light", "dark" (any case); System for anything else.
Theme themeFromName(const QString& name);
