#pragma once
// An executor that goes on on another backend when its device fails mid-run or cannot run the
// graph at all: runs on `primary` until a run throws DeviceError (a lost Vulkan device, out of
// device memory) or BackendUnsupported (an op without a shader, integer or f64 values on Vulkan),
// then runs that same graph on the same inputs again on `fallback`, and every later run there,
// after telling `note` once why. Errors of the graph itself (a missing binding, NaN with checkFinite) pass
// through untouched: they would fail on any backend.
//
// Training wraps its executor in one (the GUI always, adjoint-cli train with --fallback), so a
// failing GPU costs a slower run, not the run.
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/executor.h"

namespace adj {

class FallbackExecutor final : public Executor {
public:
    using Note = std::function<void(const std::string& why)>;
    FallbackExecutor(std::unique_ptr<Executor> primary, std::unique_ptr<Executor> fallback, Note note);

    /// The backend that runs now (the fallback's once the primary has failed).
    std::string name() const override { return current().name(); }
    std::string deviceName() const override { return current().deviceName(); }
    bool supports(Op op) const override { return current().supports(op); }
    RunResult run(const Graph& graph, const Bindings& bindings, const RunOptions& options = {}) override;

    /// Whether the primary has failed and the fallback runs everything now.
    bool fellBack() const;
    /// The executor that runs now: the primary until it fails, then the fallback.
    Executor& current() const;

private:
    std::unique_ptr<Executor> primary_, fallback_;
    Note note_;
    mutable std::mutex mutex_;
    bool fellBack_ = false;
};

}  // namespace adj
