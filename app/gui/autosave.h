#pragma once
// Autosave: crash recovery for the document. While the document has unsaved changes, its graph
// is written (atomically, JSON) to a recovery file every interval and shortly after each edit;
// the file goes away when the document is saved or becomes unmodified, and on a clean exit.
// A recovery file left behind by a process that is no longer running is what the next start
// offers to recover.
//
// Files live in recoveryDir(): $ADJOINT_RECOVERY_DIR when set (tests), else
// <AppDataLocation>/recovery. Each process writes recovery-<pid>.json and recovery-<pid>.info
// (the original file path). Timings can be shortened for tests with $ADJOINT_AUTOSAVE_MS
// (interval) and $ADJOINT_AUTOSAVE_DEBOUNCE_MS (delay after an edit).
#include <QDateTime>
#include <QObject>
#include <QString>
#include <QTimer>
#include <vector>

class GraphDocument;

class Autosave : public QObject {
    Q_OBJECT
public:
    struct Recovery {
        QString graphPath;     // the recovery JSON
        QString infoPath;
        QString originalPath;  // the document's file when it crashed; empty for an untitled one
        QDateTime saved;
    };

    explicit Autosave(GraphDocument* document, QString dir = recoveryDir(), QObject* parent = nullptr);
    ~Autosave() override;

    static QString recoveryDir();
    QString dir() const { return dir_; }
    /// This process's recovery file.
    QString recoveryPath() const;
    int intervalMs() const { return interval_.interval(); }
    int debounceMs() const { return debounce_.interval(); }

    /// Writes the recovery file now when the document is modified (removes it otherwise).
    /// Returns false with the reason when the write failed.
    bool saveNow(QString* error = nullptr);
    /// Removes this process's recovery files (clean exit, or the document was saved).
    void discard();

    /// Recovery files left by processes that are no longer running, newest first.
    static std::vector<Recovery> findRecoveries(const QString& dir = recoveryDir());
    /// Loads a recovery into the document (marked modified, under its original file name) and
    /// removes the recovery's files. Returns false with the message when it cannot be read.
    static bool restore(const Recovery& recovery, GraphDocument* document, QString* error = nullptr);
    /// Removes a recovery's files (the user declined it).
    static void remove(const Recovery& recovery);

Q_SIGNALS:
    /// A recovery file was written.
    void saved(const QString& path);

private:
    void onEdited();
    GraphDocument* doc_;
    QString dir_;
    QTimer interval_;
    QTimer debounce_;
};
