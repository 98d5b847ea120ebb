#pragma once
// AsyncAnalysis<Result>: one engine computation at a time for a view, off the GUI thread (engine
// work never runs on the GUI thread). A view splits each analysis into "compute" (pure,
// engine-only, on copies of its inputs, run on a worker by runOnPool of thread_hand_off.h) and
// "apply" (on the GUI thread, fills the widgets). start() supersedes any earlier request: every
// request takes the next version, and a result whose version is no longer the latest (the
// document changed again, or a newer request came) is dropped, never applied. A request superseded
// before its worker starts skips its computation. An exception in the computation reaches `fail` with its message.
//
// runNow() computes on the calling thread and applies at once (tests, and callers that need the
// result before they return); it supersedes any pending request too.
//
// The view owns the AsyncAnalysis as a member; destroying it drops a pending result (the worker
// finishes on its own copies and its result is discarded).
//
// The work runs on analysisThreadPool(), not on QThreadPool::globalInstance(): Qt's raster
// painter splits large fills across the global pool and waits for them on the GUI thread, so a
// long computation holding every global worker would freeze painting (seen: a 420 ms stall while
// the machine model calibrated).
#include <QFutureWatcher>
#include <QString>
#include <QThreadPool>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "thread_hand_off.h"

/// The thread pool of the analyses (at least two threads), apart from the global pool.
QThreadPool* analysisThreadPool();

template <class Result>
class AsyncAnalysis {
public:
    using Apply = std::function<void(Result&&)>;
    using Fail = std::function<void(const QString&)>;

    AsyncAnalysis(Apply apply, Fail fail) : apply_(std::move(apply)), fail_(std::move(fail)) {
        QObject::connect(watcher_.get(), &QFutureWatcherBase::finished, watcher_.get(), [this] { deliver(); });
    }
    ~AsyncAnalysis() {
        latest_->fetch_add(1);
        watcher_->disconnect();
    }
    AsyncAnalysis(const AsyncAnalysis&) = delete;
    AsyncAnalysis& operator=(const AsyncAnalysis&) = delete;

    /// Runs `compute` (a callable returning Result; it must own copies of everything it reads)
    /// on a worker; its result is applied on the GUI thread unless superseded first.
    template <class Compute>
    void start(Compute compute) {
        const int version = latest_->fetch_add(1) + 1;
        busy_ = true;
        pending_ = runOnPool<Outcome>(analysisThreadPool(), [compute = std::move(compute), version, latest = latest_]() {
            Outcome o;
            o.version = version;
            if (latest->load() != version) return o;  // superseded before it started
            try {
                o.value = std::make_shared<Result>(compute());
            } catch (const std::exception& e) {
                o.error = QString::fromUtf8(e.what());
            } catch (...) {
                o.error = QStringLiteral("unknown error");
            }
            return o;
        });
        watcher_->setFuture(pending_.future());
    }

    /// Computes and applies on the calling thread; returns false (with the message in *error,
    /// after `fail` ran) when the computation throws.
    template <class Compute>
    bool runNow(Compute compute, QString* error = nullptr) {
        cancel();
        QString message;
        std::optional<Result> value;
        try {
            value.emplace(compute());
        } catch (const std::exception& e) {
            message = QString::fromUtf8(e.what());
        } catch (...) {
            message = QStringLiteral("unknown error");
        }
        if (!value) {
            if (error) *error = message;
            fail_(message);
            return false;
        }
        ++applied_;
        apply_(std::move(*value));
        return true;
    }

    /// Drops any pending request (its result will not be applied).
    void cancel() {
        latest_->fetch_add(1);
        busy_ = false;
        pending_ = {};
        watcher_->setFuture(QFuture<void>());
    }

    /// A request is pending: its result has not been applied (or reported) yet.
    bool isBusy() const { return busy_; }
    /// Results applied so far (tests: a stale result is never applied).
    int appliedCount() const { return applied_; }
    /// Results dropped because a newer request superseded them.
    int droppedCount() const { return dropped_; }

private:
    struct Outcome {
        int version = 0;
        std::shared_ptr<Result> value;
        QString error;
    };

    void deliver() {
        if (!pending_.isFinished()) return;
        const Outcome o = pending_.result();
        if (o.version == delivered_) return;  // (a late signal of a future already delivered)
        if (o.version != latest_->load()) {
            ++dropped_;
            return;
        }
        delivered_ = o.version;
        busy_ = false;
        if (o.value) {
            ++applied_;
            apply_(std::move(*o.value));
        } else {
            fail_(o.error.isEmpty() ? QStringLiteral("the analysis produced no result") : o.error);
        }
    }

    Apply apply_;
    Fail fail_;
    std::unique_ptr<QFutureWatcher<void>> watcher_ = std::make_unique<QFutureWatcher<void>>();
    PoolResult<Outcome> pending_;  // the latest request
    std::shared_ptr<std::atomic<int>> latest_ = std::make_shared<std::atomic<int>>(0);
    bool busy_ = false;
    int delivered_ = 0;
    int applied_ = 0;
    int dropped_ = 0;
};
