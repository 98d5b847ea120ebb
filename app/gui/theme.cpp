#include "theme.h"

#include <QApplication>

QPalette systemPalette() {
    static const QPalette system = QApplication::palette();
    return system;
}

QPalette themePalette(Theme theme) {
    switch (theme) {
    case Theme::System: return systemPalette();
    case Theme::Light: {
        QPalette p(QColor(0xef, 0xf0, 0xf1), QColor(0xf6, 0xf7, 0xf8));
        p.setColor(QPalette::Base, Qt::white);
        p.setColor(QPalette::Text, QColor(0x1d, 0x23, 0x2b));
        p.setColor(QPalette::WindowText, QColor(0x1d, 0x23, 0x2b));
        p.setColor(QPalette::ButtonText, QColor(0x1d, 0x23, 0x2b));
        p.setColor(QPalette::Highlight, QColor(0x1f, 0x6f, 0xd0));
        p.setColor(QPalette::HighlightedText, Qt::white);
        return p;
    }
    case Theme::Dark: {
        QPalette p;
        const QColor window(0x2b, 0x2f, 0x36), base(0x1f, 0x23, 0x29), text(0xe4, 0xe7, 0xec);
        p.setColor(QPalette::Window, window);
        p.setColor(QPalette::WindowText, text);
        p.setColor(QPalette::Base, base);
        p.setColor(QPalette::AlternateBase, window);
        p.setColor(QPalette::Text, text);
        p.setColor(QPalette::Button, QColor(0x35, 0x3a, 0x42));
        p.setColor(QPalette::ButtonText, text);
        p.setColor(QPalette::BrightText, QColor(0xff, 0x70, 0x70));
        p.setColor(QPalette::Highlight, QColor(0x3d, 0x84, 0xe0));
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::ToolTipBase, base);
        p.setColor(QPalette::ToolTipText, text);
        p.setColor(QPalette::PlaceholderText, QColor(0x90, 0x98, 0xa4));
        p.setColor(QPalette::Link, QColor(0x7a, 0xb4, 0xff));
        p.setColor(QPalette::Light, QColor(0x4a, 0x50, 0x5a));
        p.setColor(QPalette::Midlight, QColor(0x40, 0x45, 0x4e));
        p.setColor(QPalette::Mid, QColor(0x30, 0x34, 0x3b));
        p.setColor(QPalette::Dark, QColor(0x18, 0x1b, 0x20));
        p.setColor(QPalette::Shadow, Qt::black);
        for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
            p.setColor(QPalette::Disabled, role, QColor(0x80, 0x86, 0x90));
        return p;
    }
    }
    return systemPalette();
}

QString themeName(Theme theme) {
    switch (theme) {
    case Theme::Light: return QStringLiteral("light");
    case Theme::Dark: return QStringLiteral("dark");
    case Theme::System: break;
    }
    return QStringLiteral("system");
}

Theme themeFromName(const QString& name) {
    const QString n = name.trimmed().toLower();
    if (n == QLatin1String("light")) return Theme::Light;
    if (n == QLatin1String("dark")) return Theme::Dark;
    return Theme::System;
}
