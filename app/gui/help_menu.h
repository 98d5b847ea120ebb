#pragma once
// The Help menu: Getting Started (F1: what the app shows and how to use it, in one page),
// Keyboard Shortcuts (read off the window's own menus and actions, so it never goes stale) and
// About.
#include <QString>

class QMainWindow;
class QMenu;

/// Fills `help` with its actions for `window`.
void installHelpMenu(QMainWindow* window, QMenu* help);
/// Every action of the window's menus that has a shortcut, as an HTML table: menu, action, keys.
QString shortcutsHtml(const QMainWindow* window);
/// The Getting Started page (HTML).
QString gettingStartedHtml();
