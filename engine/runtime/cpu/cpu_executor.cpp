// The CPU executor: runs the nodes the outputs need in topological order, each through its TBB
// kernel, inferring shapes from the tensors it actually sees (so batch dimensions bind at run time)
// and dropping each value after its last use. Intermediate values go into the arena of a memory
// plan (runtime/memory_plan.h) made once per graph structure and input shapes and kept across
// runs, so a training step run thousands of times allocates only its outputs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <tbb/info.h>

#include "base/errors.h"
#include "ir/shape_inference.h"
#include "runtime/bindings.h"
#include "runtime/cpu/cpu_kernels.h"
#include "runtime/executor.h"
#include "runtime/memory_plan.h"

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

std::int64_t blockBytes(const Tensor& t) {
    const auto b = std::int64_t(t.storage()->bytes());
    return (b + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
}

/// A memory plan with its arena and, by node id, the tensors (views of the arena) that kernels
/// write their outputs into; undefined where a value has no arena buffer.
struct PlannedArena {
    std::vector<std::int64_t> key;
    MemoryPlan plan;
    Tensor arena;
    std::vector<std::vector<Tensor>> slots;
    /// By node id: the input whose buffer the node's output is planned to write over (InPlace);
    /// node kNoNode where none.
    std::vector<ValueRef> overwrites;
    /// By node id: when that buffer is a donated input's (RunOptions::donatedInputs), the input.
    std::vector<ValueRef> overDonated;
    std::uint64_t lastUsed = 0;
};

/// Buffers the run holds, for RunResult::peakLiveBytes: a value points at its buffer (views
/// share their input's), and a buffer's bytes count while any value holding it is kept.
struct LiveBytes {
    std::vector<int> firstOfNode;  // by node id: index of port 0 in bufferOf
    std::vector<int> bufferOf;     // by value: index into bytes/holders, -1 when not counted
    std::vector<std::int64_t> bytes;
    std::vector<int> holders;
    std::int64_t live = 0, peak = 0;

    int& of(ValueRef v) { return bufferOf[std::size_t(firstOfNode[std::size_t(v.node)] + v.port)]; }
    void hold(ValueRef v, int buffer) {
        of(v) = buffer;
        if (buffer < 0) return;
        if (holders[std::size_t(buffer)]++ == 0) live += bytes[std::size_t(buffer)];
    }
    int newBuffer(std::int64_t b) {
        bytes.push_back(b);
        holders.push_back(0);
        return int(bytes.size()) - 1;
    }
    void release(ValueRef v) {
        const int b = of(v);
        if (b >= 0 && --holders[std::size_t(b)] == 0) live -= bytes[std::size_t(b)];
    }
    void mark() { peak = std::max(peak, live); }
};

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
        // One planned run at a time per executor; a concurrent run (or one keeping every value for
        // the caller) allocates as it goes.
        std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
        PlannedArena* pa =
            (lock.owns_lock() && opt.planMemory && !opt.keepAllValues) ? plannedArena(g, order, bindings, opt.schedule, opt.donatedInputs) : nullptr;
        if (!pa && lock.owns_lock()) lock.unlock();
        const std::vector<NodeId>& schedule = pa ? pa->plan.schedule : order;  // the min-peak order, when planned so

        // remaining uses of each node among the scheduled nodes, plus graph outputs
        std::vector<int> remaining(std::size_t(g.idBound()), 0);
        LiveBytes lb;
        lb.firstOfNode.assign(std::size_t(g.idBound()), 0);
        int valueCount = 0;
        for (NodeId id : order) {
            const Node& n = g.node(id);
            lb.firstOfNode[std::size_t(id)] = valueCount;
            valueCount += std::max(1, n.numOutputs());
            for (const auto& v : n.inputs)
                if (g.contains(v.node)) ++remaining[std::size_t(v.node)];
        }
        for (const auto& o : g.outputs()) ++remaining[std::size_t(o.value.node)];
        lb.bufferOf.assign(std::size_t(valueCount), -1);
        // by value: whether the run made its buffer (a kernel's, not a source's or a view of one),
        // so that a node planned to write in place may overwrite it
        std::vector<char> runMade(std::size_t(valueCount), 0);
        auto madeByRun = [&](ValueRef v) -> char& { return runMade[std::size_t(lb.firstOfNode[std::size_t(v.node)] + v.port)]; };
        std::vector<Tensor> inPlaceSlot(1);
        lb.bytes.reserve(std::size_t(valueCount));
        lb.holders.reserve(std::size_t(valueCount));
        if (pa) lb.live = pa->plan.arenaBytes;

        std::vector<std::vector<Tensor>> values(std::size_t(g.idBound()));
        RunResult result;
        result.nodeMicros.assign(std::size_t(g.idBound()), 0.0);
        if (pa) result.arenaBytes = pa->plan.arenaBytes;
        for (NodeId id : schedule) {
            const Node& n = g.node(id);
            const auto t0 = std::chrono::steady_clock::now();
            std::vector<Tensor>& out = values[std::size_t(id)];
            if (n.op == Op::Input) {
                out = {bindInput(n, bindings)};
            } else if (isSource(n.op)) {
                out = {sourceValue(n, bindings)};
            } else {
                {
                    cpu::KernelCall call{n, {}, {}, {}};
                    if (pa) call.planned = &pa->slots[std::size_t(id)];
                    std::vector<ValueType> inTypes;
                    call.inputs.reserve(n.inputs.size());
                    for (const auto& v : n.inputs) {
                        if (!g.contains(v.node)) throw GraphError("node '" + n.name + "' has an unconnected input");
                        const Tensor& t = values[std::size_t(v.node)].at(std::size_t(v.port));
                        call.inputs.push_back(t);
                        inTypes.push_back({t.shape(), t.dtype()});
                    }
                    call.outTypes = inferNodeTypes(n, inTypes);
                    const Tensor* overwritten = nullptr;
                    if (pa && pa->overwrites[std::size_t(id)].node != kNoNode) {
                        const ValueRef w = pa->overwrites[std::size_t(id)];
                        const Tensor& t = values[std::size_t(w.node)].at(std::size_t(w.port));
                        // The plan writes over a source only when the caller donated it: over a
                        // donated input (or a value written over one), the caller's tensor when it
                        // is a whole buffer (never a parameter's own value); else a buffer the run made.
                        const Node& root = g.node(pa->overDonated[std::size_t(id)].node == kNoNode ? w.node : pa->overDonated[std::size_t(id)].node);
                        const bool donated = root.op == Op::Input || (root.op == Op::Parameter && bindings.count(root.name));
                        const bool ours = pa->overDonated[std::size_t(id)].node != kNoNode
                                              ? donated && t.storage() && t.storage()->bytes() == std::size_t(t.numel()) * sizeof(float)
                                              : bool(madeByRun(w));
                        if (ours && t.isContiguous() && t.dtype() == DType::F32 && !call.outTypes.empty() &&
                            t.shape() == call.outTypes[0].shape) {
                            inPlaceSlot[0] = t;
                            call.planned = &inPlaceSlot;
                            overwritten = &t;
                        }
                    }
                    cpu::runKernel(call);
                    inPlaceSlot[0] = Tensor();
                    out = std::move(call.outputs);
                    if (int(out.size()) > std::max(1, n.numOutputs()))
                        throw Error("node '" + n.name + "' (" + std::string(opName(n.op)) + ") produced more outputs than it has");
                    for (std::size_t p = 0; p < out.size(); ++p) {
                        const bool wroteInPlace = p == 0 && overwritten && out[0].defined() && out[0].data() == overwritten->data();
                        if (pa && !wroteInPlace) keepOutOfArena(*pa, ValueRef{id, int(p)}, out[p]);
                        lb.hold(ValueRef{id, int(p)}, bufferFor(lb, g, n, values, pa, out[p]));
                        madeByRun(ValueRef{id, int(p)}) = char(madeBy(g, n, values, runMade, lb, out[p]));
                    }
                    lb.mark();
                    for (const auto& v : n.inputs)
                        if (--remaining[std::size_t(v.node)] == 0 && !opt.keepAllValues) {
                            for (std::size_t p = 0; p < values[std::size_t(v.node)].size(); ++p) lb.release(ValueRef{v.node, int(p)});
                            values[std::size_t(v.node)].clear();
                        }
                }
            }
            result.nodeMicros[std::size_t(id)] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
            if (opt.checkFinite && !isSource(n.op))
                for (const auto& t : out)
                    if (!allFinite(t)) throw Error("node '" + n.name + "' (" + std::string(opName(n.op)) + ") produced a NaN or Inf");
            if (opt.keepAllValues)
                for (std::size_t p = 0; p < out.size(); ++p) result.values[ValueRef{id, int(p)}] = out[p];
        }
        for (const auto& o : g.outputs()) {
            Tensor t = values[std::size_t(o.value.node)].at(std::size_t(o.value.port)).contiguous();
            if (pa && pa->arena.defined() && t.sharesStorageWith(pa->arena)) t = t.clone();
            result.outputs.push_back(std::move(t));
        }
        result.peakLiveBytes = lb.peak;
        return result;
    }

private:
    static constexpr std::size_t kCachedPlans = 4;

    /// The plan for this graph structure and these source shapes, from the cache or made now;
    /// nullptr when the graph cannot be planned (the run then reports the problem as it meets it).
    PlannedArena* plannedArena(const Graph& g, const std::vector<NodeId>& order, const Bindings& bindings, ScheduleOrder schedule,
                               const std::vector<std::string>& donated) {
        std::vector<std::int64_t>& key = keyScratch_;
        key.clear();
        key.push_back(std::int64_t(schedule));
        for (NodeId id : order) {
            const Node& n = g.node(id);
            key.push_back(id);
            key.push_back(std::int64_t(n.op));
            key.push_back(n.numOutputs());
            key.push_back(std::int64_t(n.inputs.size()));
            for (const auto& v : n.inputs) {
                key.push_back(v.node);
                key.push_back(v.port);
            }
            if (!isSource(n.op)) continue;
            const Tensor* t = nullptr;
            if (n.op == Op::Input) {
                auto it = bindings.find(n.name);
                if (it == bindings.end()) return nullptr;
                t = &it->second;
            } else {
                auto it = n.op == Op::Parameter ? bindings.find(n.name) : bindings.end();
                t = it != bindings.end() ? &it->second : &n.value;
            }
            key.push_back(std::int64_t(t->dtype()));
            key.push_back(t->rank());
            key.insert(key.end(), t->shape().begin(), t->shape().end());
        }
        key.push_back(-1);
        for (const auto& o : g.outputs()) {
            key.push_back(o.value.node);
            key.push_back(o.value.port);
        }
        key.push_back(-2);
        for (const std::string& name : donated)
            if (auto id = g.findNode(name)) key.push_back(*id);
        ++clock_;
        for (auto& c : cache_)
            if (c->key == key) {
                c->lastUsed = clock_;
                return c.get();
            }
        auto pa = std::make_unique<PlannedArena>();
        try {
            pa->plan = planMemoryForBindings(g, order, bindings, schedule, donated);
            if (pa->plan.arenaBytes > 0) pa->arena = Tensor::empty({pa->plan.arenaBytes / std::int64_t(sizeof(float))});
        } catch (const std::exception&) {
            return nullptr;
        }
        pa->key = key;
        pa->lastUsed = clock_;
        pa->slots.resize(std::size_t(g.idBound()));
        pa->overwrites.assign(std::size_t(g.idBound()), ValueRef{});
        pa->overDonated.assign(std::size_t(g.idBound()), ValueRef{});
        for (const PlannedValue& v : pa->plan.values) {
            if (v.placement == BufferPlacement::InPlace && v.value.port == 0) {
                pa->overwrites[std::size_t(v.value.node)] = v.overwrites;
                if (!pa->plan.find(v.aliasOf)) pa->overDonated[std::size_t(v.value.node)] = v.aliasOf;  // a source: donated
            }
            if (v.placement != BufferPlacement::Arena || v.bytes == 0 || v.dtype != DType::F32) continue;
            const std::int64_t first = v.offset / std::int64_t(sizeof(float));
            Tensor slot = pa->arena.slice(0, first, first + numel(v.shape)).viewAs(v.shape);
            auto& s = pa->slots[std::size_t(v.value.node)];
            if (s.size() <= std::size_t(v.value.port)) s.resize(std::size_t(v.value.port) + 1);
            s[std::size_t(v.value.port)] = slot;
        }
        if (cache_.size() >= kCachedPlans)
            cache_.erase(std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) { return a->lastUsed < b->lastUsed; }));
        cache_.push_back(std::move(pa));
        return cache_.back().get();
    }

    /// A kernel output in the arena must be the value's own slot or a planned view; anything else
    /// (a kernel that returned some arena value as its output) is copied out, since the plan
    /// does not keep that memory for it.
    static void keepOutOfArena(const PlannedArena& pa, ValueRef v, Tensor& t) {
        if (!t.defined() || !pa.arena.defined() || !t.sharesStorageWith(pa.arena)) return;
        const PlannedValue* pv = pa.plan.find(v);
        if (pv && pv->placement == BufferPlacement::View) return;
        if (pv && pv->placement == BufferPlacement::Arena) {
            const auto& s = pa.slots[std::size_t(v.node)];
            if (std::size_t(v.port) < s.size() && s[std::size_t(v.port)].defined() && s[std::size_t(v.port)].data() == t.data() &&
                s[std::size_t(v.port)].shape() == t.shape())
                return;
        }
        t = t.clone();
    }

    /// Whether output `t` of node `n` is in a buffer the run made: not a source's, nor a view of
    /// one (an output sharing an input's storage is made by the run when that input is).
    static bool madeBy(const Graph& g, const Node& n, const std::vector<std::vector<Tensor>>& values, const std::vector<char>& runMade,
                       const LiveBytes& lb, const Tensor& t) {
        if (!t.defined()) return false;
        for (const auto& in : n.inputs) {
            const auto& vs = values[std::size_t(in.node)];
            if (std::size_t(in.port) < vs.size() && vs[std::size_t(in.port)].sharesStorageWith(t))
                return !isSource(g.node(in.node).op) && runMade[std::size_t(lb.firstOfNode[std::size_t(in.node)] + in.port)];
        }
        return true;
    }

    /// The buffer that output `t` of node `n` holds: none for arena memory (the arena is counted
    /// whole, from the start) and for views of sources, its input's when it views one, else a new one.
    static int bufferFor(LiveBytes& lb, const Graph& g, const Node& n, const std::vector<std::vector<Tensor>>& values,
                         const PlannedArena* pa, const Tensor& t) {
        if (!t.defined()) return -1;
        if (pa && pa->arena.defined() && t.sharesStorageWith(pa->arena)) return -1;
        for (const auto& in : n.inputs) {
            const auto& vs = values[std::size_t(in.node)];
            if (std::size_t(in.port) < vs.size() && vs[std::size_t(in.port)].sharesStorageWith(t))
                return isSource(g.node(in.node).op) ? -1 : lb.of(in);
        }
        return lb.newBuffer(blockBytes(t));
    }

    std::mutex mutex_;
    std::vector<std::unique_ptr<PlannedArena>> cache_;
    std::vector<std::int64_t> keyScratch_;
    std::uint64_t clock_ = 0;
};

}  // namespace

std::unique_ptr<Executor> makeCpuExecutor() {
    keepFreedMemory();
    return std::make_unique<CpuExecutor>();
}

}  // namespace adj
