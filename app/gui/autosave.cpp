#include "autosave.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>
#include <algorithm>

#include "graph_document.h"
#include "io/json_format.h"

namespace {

int envMs(const char* name, int fallback) {
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : fallback;
}

bool processAlive(qint64 pid) {
#ifdef Q_OS_LINUX
    return QFileInfo::exists(QStringLiteral("/proc/%1").arg(pid));
#else
    Q_UNUSED(pid);
    return false;
#endif
}

bool writeAtomically(const QString& path, const QByteArray& bytes, QString* error) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit()) {
        if (error) *error = QStringLiteral("%1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

}  // namespace

Autosave::Autosave(GraphDocument* document, QString dir, QObject* parent)
    : QObject(parent), doc_(document), dir_(std::move(dir)) {
    interval_.setInterval(envMs("ADJOINT_AUTOSAVE_MS", 30000));
    debounce_.setInterval(envMs("ADJOINT_AUTOSAVE_DEBOUNCE_MS", 2000));
    debounce_.setSingleShot(true);
    connect(&interval_, &QTimer::timeout, this, [this] { saveNow(); });
    connect(&debounce_, &QTimer::timeout, this, [this] { saveNow(); });
    connect(doc_, &GraphDocument::graphChanged, this, &Autosave::onEdited);
    connect(doc_, &GraphDocument::nodeChanged, this, &Autosave::onEdited);
    connect(doc_, &GraphDocument::nodeMoved, this, &Autosave::onEdited);
    connect(doc_, &GraphDocument::modifiedChanged, this, [this](bool modified) {
        if (!modified) discard();
    });
    interval_.start();
}

Autosave::~Autosave() = default;

QString Autosave::recoveryDir() {
    const QString env = qEnvironmentVariable("ADJOINT_RECOVERY_DIR");
    if (!env.isEmpty()) return env;
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/recovery");
}

QString Autosave::recoveryPath() const {
    return dir_ + QStringLiteral("/recovery-%1.json").arg(QCoreApplication::applicationPid());
}

void Autosave::onEdited() { debounce_.start(); }

bool Autosave::saveNow(QString* error) {
    if (!doc_->isModified()) {
        discard();
        return true;
    }
    if (!QDir().mkpath(dir_)) {
        if (error) *error = tr("cannot create %1").arg(dir_);
        return false;
    }
    QByteArray json;
    try {
        json = QByteArray::fromStdString(adj::graphToJson(doc_->graph()));
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    QJsonObject info;
    info.insert(QStringLiteral("original"), doc_->filePath());
    info.insert(QStringLiteral("saved"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    const QString path = recoveryPath();
    const QString infoPath = QString(path).replace(QStringLiteral(".json"), QStringLiteral(".info"));
    // The graph first: a recovery is only offered where its info file exists.
    if (!writeAtomically(path, json, error) || !writeAtomically(infoPath, QJsonDocument(info).toJson(), error)) return false;
    Q_EMIT saved(path);
    return true;
}

void Autosave::discard() {
    const QString path = recoveryPath();
    QFile::remove(QString(path).replace(QStringLiteral(".json"), QStringLiteral(".info")));
    QFile::remove(path);
}

std::vector<Autosave::Recovery> Autosave::findRecoveries(const QString& dir) {
    std::vector<Recovery> out;
    const qint64 self = QCoreApplication::applicationPid();
    for (const QFileInfo& fi : QDir(dir).entryInfoList({QStringLiteral("recovery-*.info")}, QDir::Files)) {
        bool ok = false;
        const qint64 pid = fi.completeBaseName().mid(int(qstrlen("recovery-"))).toLongLong(&ok);
        if (!ok || pid == self || processAlive(pid)) continue;
        Recovery r;
        r.infoPath = fi.absoluteFilePath();
        r.graphPath = fi.absolutePath() + QStringLiteral("/recovery-%1.json").arg(pid);
        if (!QFileInfo::exists(r.graphPath)) continue;
        QFile f(r.infoPath);
        if (f.open(QIODevice::ReadOnly)) {
            const QJsonObject info = QJsonDocument::fromJson(f.readAll()).object();
            r.originalPath = info.value(QStringLiteral("original")).toString();
            r.saved = QDateTime::fromString(info.value(QStringLiteral("saved")).toString(), Qt::ISODate);
        }
        if (!r.saved.isValid()) r.saved = QFileInfo(r.graphPath).lastModified();
        out.push_back(r);
    }
    std::sort(out.begin(), out.end(), [](const Recovery& a, const Recovery& b) { return a.saved > b.saved; });
    return out;
}

bool Autosave::restore(const Recovery& recovery, GraphDocument* document, QString* error) {
    try {
        adj::Graph g = adj::loadGraphJson(QFile::encodeName(recovery.graphPath).toStdString());
        document->setGraph(std::move(g), recovery.originalPath, true);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    remove(recovery);
    return true;
}

void Autosave::remove(const Recovery& recovery) {
    QFile::remove(recovery.infoPath);
    QFile::remove(recovery.graphPath);
}
