#include "single_instance.h"

#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <memory>

SingleInstance::SingleInstance(QString key, QObject* parent) : QObject(parent), key_(std::move(key)) {}

QString SingleInstance::defaultKey() {
    if (const QString key = qEnvironmentVariable("ADJOINT_INSTANCE_KEY"); !key.isEmpty()) return key;
    QString user = qEnvironmentVariable("USER");
    if (user.isEmpty()) user = qEnvironmentVariable("LOGNAME");
    return QStringLiteral("adjoint-") + (user.isEmpty() ? QStringLiteral("user") : user);
}

bool SingleInstance::forwardToRunning(const QStringList& paths, int timeoutMs) const {
    QLocalSocket socket;
    socket.connectToServer(key_);
    if (!socket.waitForConnected(timeoutMs)) return false;
    QByteArray message;
    for (const QString& p : paths) message += QFileInfo(p).absoluteFilePath().toUtf8() + '\n';
    message += '\n';  // end of the list
    socket.write(message);
    if (!socket.waitForBytesWritten(timeoutMs)) return false;
    // the running program answers "ok" once it has the list
    while (!socket.canReadLine())
        if (!socket.waitForReadyRead(timeoutMs)) return false;
    return socket.readLine().trimmed() == "ok";
}

bool SingleInstance::listen() {
    server_ = new QLocalServer(this);
    server_->setSocketOptions(QLocalServer::UserAccessOption);
    if (!server_->listen(key_)) {
        // no program answered (forwardToRunning failed), so the socket is a crashed one's
        QLocalServer::removeServer(key_);
        if (!server_->listen(key_)) return false;
    }
    connect(server_, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket* socket = server_->nextPendingConnection()) {
            auto buffer = std::make_shared<QByteArray>();
            connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            connect(socket, &QLocalSocket::readyRead, this, [this, socket, buffer] {
                *buffer += socket->readAll();
                if (!buffer->endsWith("\n\n") && *buffer != "\n") return;
                QStringList paths;
                for (const QByteArray& line : buffer->split('\n'))
                    if (!line.isEmpty()) paths << QString::fromUtf8(line);
                buffer->clear();
                socket->write("ok\n");
                socket->flush();
                Q_EMIT filesRequested(paths);
            });
        }
    });
    return true;
}
