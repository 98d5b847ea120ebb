#include "async_analysis.h"

#include <QCoreApplication>
#include <QThread>
#include <algorithm>

namespace {
QThreadPool* makeAnalysisPool() {
    auto* pool = new QThreadPool;
    pool->setObjectName(QStringLiteral("analysisPool"));
    pool->setMaxThreadCount(std::max(2, QThread::idealThreadCount()));
    // As for the global pool: the application's end drops queued work and waits for running work.
    qAddPostRoutine([] {
        analysisThreadPool()->clear();
        analysisThreadPool()->waitForDone();
    });
    return pool;
}
}  // namespace

QThreadPool* analysisThreadPool() {
    // (never deleted: threads of a pool deleted after main() returns could outlive what they use)
    static QThreadPool* pool = makeAnalysisPool();
    return pool;
}
