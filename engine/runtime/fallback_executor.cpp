#include "runtime/fallback_executor.h"

namespace adj {

FallbackExecutor::FallbackExecutor(std::unique_ptr<Executor> primary, std::unique_ptr<Executor> fallback, Note note)
    : primary_(std::move(primary)), fallback_(std::move(fallback)), note_(std::move(note)) {}

Executor& FallbackExecutor::current() const {
    std::lock_guard lock(mutex_);
    return fellBack_ ? *fallback_ : *primary_;
}

bool FallbackExecutor::fellBack() const {
    std::lock_guard lock(mutex_);
    return fellBack_;
}

RunResult FallbackExecutor::run(const Graph& graph, const Bindings& bindings, const RunOptions& options) {
    Executor& exec = current();
    if (&exec == fallback_.get()) return exec.run(graph, bindings, options);
    std::string why;
    try {
        return exec.run(graph, bindings, options);
    } catch (const DeviceError& e) {
        why = e.what();
    } catch (const BackendUnsupported& e) {  // the graph needs what the primary lacks: before any work
        why = e.what();
    }
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        first = !fellBack_;
        fellBack_ = true;
    }
    if (first && note_) note_(why + "; " + fallback_->deviceName() + " goes on");
    // The same graph on the same inputs: whatever the failed run computed was never handed out.
    return fallback_->run(graph, bindings, options);
}

}  // namespace adj
