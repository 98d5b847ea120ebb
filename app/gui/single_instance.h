#pragma once
// One Adjoint per desktop session: a file opened while Adjoint runs (a double-click on an .onnx,
// `adjoint model.onnx` in a terminal) opens in a new window of the running program instead of a
// second process. The first program listens on a local socket named after the user; a later one
// sends it the absolute paths and exits. A stale socket (a program that crashed) is taken over.
#include <QObject>
#include <QString>
#include <QStringList>

class QLocalServer;

class SingleInstance : public QObject {
    Q_OBJECT
public:
    /// `key` names the socket: by default "adjoint-<user>", or $ADJOINT_INSTANCE_KEY when set.
    explicit SingleInstance(QString key = defaultKey(), QObject* parent = nullptr);

    /// Sends the files to the running program; true when it took them (then this one may exit).
    /// False when none runs, or it did not answer within `timeoutMs`.
    bool forwardToRunning(const QStringList& paths, int timeoutMs = 2000) const;
    /// Starts answering later programs; false when the socket cannot be made (then each program
    /// stays on its own, as before).
    bool listen();

    static QString defaultKey();

Q_SIGNALS:
    /// A later program asked to open these files (absolute paths; may be empty: just come forward).
    void filesRequested(const QStringList& paths);

private:
    QString key_;
    QLocalServer* server_ = nullptr;
};
