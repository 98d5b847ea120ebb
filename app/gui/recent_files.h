#pragma once
// RecentFiles: the most recently opened or saved graph files, newest first, kept in QSettings
// ("recentFiles") so that they survive restarts. Files that no longer exist are dropped when read.
#include <QObject>
#include <QStringList>

class RecentFiles : public QObject {
    Q_OBJECT
public:
    static constexpr int kMaxFiles = 10;
    explicit RecentFiles(QObject* parent = nullptr);

    QStringList files() const;
    /// Puts `path` (made absolute) first.
    void add(const QString& path);
    void remove(const QString& path);
    void clear();

Q_SIGNALS:
    void changed();

private:
    void store(const QStringList& files);
};
