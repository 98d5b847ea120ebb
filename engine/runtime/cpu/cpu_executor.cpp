// The CPU executor: runs the nodes the outputs need in topological order, each through its TBB
// kernel, inferring shapes from the tensors it actually sees (so batch dimensions bind at run time)
// and dropping each value after its last use.
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <tbb/info.h>

#include "ir/errors.h"
#include "ir/shape_inference.h"
#include "runtime/bindings.h"
#include "runtime/cpu/cpu_kernels.h"
#include "runtime/executor.h"

namespace adj {
namespace {

Tensor bindInput(const Node& n, const Bindings& bindings) {
    auto it = bindings.find(n.name);
    if (it == bindings.end()) throw Error("graph input '" + n.name + "' has no binding (give it with --input " + n.name + "=FILE.npy)");
    checkBinding(n, it->second);
    return it->second;
}

/// glibc returns every freed block above its mmap threshold to the OS, so each large kernel output
/// (a [K, n] tangent: megabytes) costs thousands of page faults on every run, which on a loaded
/// machine is most of the run time. Keep freed memory in the heap for reuse instead.
void keepFreedMemory() {
#if defined(__GLIBC__)
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    });
#endif
}

bool allFinite(const Tensor& t) {
    bool ok = true;
    const float* d = t.data();
    forEachOffset(t.shape(), t.strides(), [&](std::int64_t, std::int64_t off) {
        if (!std::isfinite(d[off])) ok = false;
    });
    return ok;
}

class CpuExecutor final : public Executor {
public:
    std::string name() const override { return "cpu"; }
    std::string deviceName() const override {
        return "CPU (" + std::to_string(tbb::info::default_concurrency()) + " threads)";
    }
    bool supports(Op) const override { return true; }

    RunResult run(const Graph& g, const Bindings& bindings, const RunOptions& opt) override {
        for (const auto& o : g.outputs())
            if (!g.contains(o.value.node)) throw GraphError("output '" + o.name + "' refers to a value that does not exist");
        const std::vector<NodeId> order = g.liveTopoOrder();
        // remaining uses of each node among the scheduled nodes, plus graph outputs
        std::vector<int> remaining(std::size_t(g.idBound()), 0);
        for (NodeId id : order)
            for (const auto& v : g.node(id).inputs)
                if (g.contains(v.node)) ++remaining[std::size_t(v.node)];
        for (const auto& o : g.outputs()) ++remaining[std::size_t(o.value.node)];

        std::vector<std::vector<Tensor>> values(std::size_t(g.idBound()));
        RunResult result;
        result.nodeMicros.assign(std::size_t(g.idBound()), 0.0);
        for (NodeId id : order) {
            const Node& n = g.node(id);
            const auto t0 = std::chrono::steady_clock::now();
            std::vector<Tensor>& out = values[std::size_t(id)];
            switch (n.op) {
                case Op::Input: out = {bindInput(n, bindings)}; break;
                case Op::Parameter:
                case Op::Constant: out = {sourceValue(n, bindings)}; break;
                default: {
                    cpu::KernelCall call{n, {}, {}, {}};
                    std::vector<ValueType> inTypes;
                    call.inputs.reserve(n.inputs.size());
                    for (const auto& v : n.inputs) {
                        if (!g.contains(v.node)) throw GraphError("node '" + n.name + "' has an unconnected input");
                        const Tensor& t = values[std::size_t(v.node)].at(std::size_t(v.port));
                        call.inputs.push_back(t);
                        inTypes.push_back({t.shape(), t.dtype()});
                    }
                    call.outTypes = inferNodeTypes(n, inTypes);
                    cpu::runKernel(call);
                    out = std::move(call.outputs);
                    for (const auto& v : n.inputs)
                        if (--remaining[std::size_t(v.node)] == 0 && !opt.keepAllValues) values[std::size_t(v.node)].clear();
                }
            }
            result.nodeMicros[std::size_t(id)] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
            if (opt.checkFinite && !isSource(n.op))
                for (const auto& t : out)
                    if (!allFinite(t)) throw Error("node '" + n.name + "' (" + std::string(opName(n.op)) + ") produced a NaN or Inf");
            if (opt.keepAllValues)
                for (std::size_t p = 0; p < out.size(); ++p) result.values[ValueRef{id, int(p)}] = out[p];
        }
        for (const auto& o : g.outputs()) result.outputs.push_back(values[std::size_t(o.value.node)].at(std::size_t(o.value.port)).contiguous());
        return result;
    }
};

}  // namespace

std::unique_ptr<Executor> makeCpuExecutor() {
    keepFreedMemory();
    return std::make_unique<CpuExecutor>();
}

}  // namespace adj
