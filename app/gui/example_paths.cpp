#include "example_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStringList>

QString examplesDir() {
    QStringList candidates;
    if (QCoreApplication::instance()) {
        const QString exeDir = QCoreApplication::applicationDirPath();
        candidates << exeDir + QStringLiteral("/resources/examples")
                   << exeDir + QStringLiteral("/../share/adjoint/examples");
    }
    candidates << QStringLiteral(ADJOINT_SOURCE_DIR "/resources/examples");
    for (const QString& c : candidates)
        if (QFileInfo(c).isDir()) return QDir::cleanPath(c);
    return {};
}

QString defaultExamplePath() {
    const QString dir = examplesDir();
    if (dir.isEmpty()) return {};
    const QString path = dir + QStringLiteral("/mlp.json");
    return QFileInfo::exists(path) ? path : QString();
}
