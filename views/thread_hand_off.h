#pragma once
// Work handed from one thread to another through Qt, told to ThreadSanitizer:
//   - runOnPool(): a computation run on a QThreadPool, its result handed back to the GUI thread
//     in a PoolResult (a QFuture<void> to watch, and the value once it has finished);
//   - invokeHandedOff(): a call made from a worker thread, run on the thread of a QObject (the GUI
//     thread) by its event loop.
//
// Why not QtConcurrent::run's own QFuture<Result>: Qt is not built with ThreadSanitizer. The
// function object QtConcurrent stores, and the result it copies into the future, are written on
// one thread and read on another, with the hand-off (QThreadPool's queue, QFutureInterface's
// mutex: futexes inside libQt6Core) invisible to TSan, which then reports races in our own
// lambdas that are not races. Here the computation and its result travel in objects of our own,
// with the two hand-offs stated to TSan (engine/base/parallel.h has the same for oneTBB):
//   - the job is built, then released, before the pool sees it; the pool's thread acquires it
//     before touching it (the adapter QtConcurrent stores holds nothing but the job's address);
//   - the worker releases the slot after writing the result; the GUI thread acquires it before
//     reading, once the future has finished.
// and likewise for a call posted to another thread's event loop (QMetaObject::invokeMethod).
// Outside TSan builds the annotations compile to nothing and this costs one allocation.
#include <QFuture>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "base/parallel.h"  // ADJ_TSAN_UNSEEN, tsanAcquire, tsanRelease

namespace adj::detail {

template <class Result>
struct PoolSlot {
    std::optional<Result> value;
    std::exception_ptr error;
};

template <class Result, class Compute>
struct PoolJob {
    Compute compute;
    std::shared_ptr<PoolSlot<Result>> slot;
    void operator()() {
        try {
            slot->value.emplace(compute());
        } catch (...) {
            slot->error = std::current_exception();
        }
        tsanRelease(slot.get());
    }
};

/// What Qt stores and runs on the other thread: the address of a callable released by the thread
/// that made it; acquired, run once and freed.
template <class F>
struct HandedOffCall {
    F* call;
    ADJ_TSAN_UNSEEN void operator()() const {
        F* f = call;
        tsanAcquire(f);
        const std::unique_ptr<F> owned(f);
        (*owned)();
    }
};

}  // namespace adj::detail

/// A computation handed to a pool; copyable (all copies share the result).
template <class Result>
class PoolResult {
public:
    PoolResult() = default;

    /// What a QFutureWatcher<void> watches; finished once the result (or the error) is in.
    const QFuture<void>& future() const { return future_; }
    bool isFinished() const { return slot_ && future_.isFinished(); }

    /// The result; waits for it when the computation is still running. Rethrows what it threw.
    const Result& result() const {
        QFuture<void>(future_).waitForFinished();
        adj::tsanAcquire(slot_.get());
        if (slot_->error) std::rethrow_exception(slot_->error);
        return *slot_->value;
    }

private:
    template <class R, class Compute>
    friend PoolResult<R> runOnPool(QThreadPool* pool, Compute compute);
    std::shared_ptr<adj::detail::PoolSlot<Result>> slot_;
    QFuture<void> future_;
};

/// Runs compute() (a callable returning Result that owns copies of what it reads) on `pool`.
/// (A job the pool drops unstarted, when the application ends, is not freed.)
template <class Result, class Compute>
PoolResult<Result> runOnPool(QThreadPool* pool, Compute compute) {
    using Job = adj::detail::PoolJob<Result, Compute>;
    PoolResult<Result> r;
    r.slot_ = std::make_shared<adj::detail::PoolSlot<Result>>();
    auto* job = new Job{std::move(compute), r.slot_};
    adj::tsanRelease(job);
    r.future_ = QtConcurrent::run(pool, adj::detail::HandedOffCall<Job>{job});
    return r;
}

/// Runs f() on the thread of `context` (queued, from its event loop); f owns what it reads.
/// (A call still queued when `context` is destroyed is dropped and not freed.)
template <class F>
void invokeHandedOff(QObject* context, F f) {
    auto* call = new F(std::move(f));
    adj::tsanRelease(call);
    QMetaObject::invokeMethod(context, adj::detail::HandedOffCall<F>{call}, Qt::QueuedConnection);
}
