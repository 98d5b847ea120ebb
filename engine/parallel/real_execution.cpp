#include "parallel/real_execution.h"

#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "base/errors.h"
#include "base/thread_affinity.h"
#include "ir/verifier.h"
#include "parallel/step_workload.h"
#include "runtime/executor.h"

namespace adj::parallel {

namespace {

using Clock = std::chrono::steady_clock;

/// A compute task's nodes as a graph of their own: the values they read from elsewhere become
/// inputs (parameters and constants come along), and the values others read become outputs.
struct Piece {
    Graph graph;
    std::vector<ValueRef> inputs;   // in the workload graph, bound to the inputs named in `names`
    std::vector<std::string> names;
    std::vector<ValueRef> outputs;  // in the workload graph, the piece's outputs in order
};

Piece extractPiece(const Graph& g, const std::vector<NodeId>& nodes) {
    Piece piece;
    std::map<ValueRef, ValueRef> mapped;
    std::map<NodeId, NodeId> sources;
    auto valueOf = [&](const ValueRef& v) -> ValueRef {
        if (auto it = mapped.find(v); it != mapped.end()) return it->second;
        const Node& n = g.node(v.node);
        if (n.op == Op::Parameter || n.op == Op::Constant) {
            auto it = sources.find(v.node);
            if (it == sources.end())
                it = sources.emplace(v.node, n.op == Op::Parameter ? piece.graph.addParameter(n.name, n.value) : piece.graph.addConstant(n.value, n.name)).first;
            return {it->second, v.port};
        }
        const ValueType& t = g.type(v);
        std::string name = "in" + std::to_string(piece.inputs.size());
        while (g.findNode(name) || piece.graph.findNode(name)) name += "_";  // (never a name the copied nodes take)
        const NodeId in = piece.graph.addInput(name, t.shape, {}, t.dtype);
        piece.inputs.push_back(v);
        piece.names.push_back(name);
        mapped[v] = {in, 0};
        return {in, 0};
    };
    for (NodeId id : nodes) {
        const Node& n = g.node(id);
        std::vector<ValueRef> ins;
        for (const ValueRef& in : n.inputs) ins.push_back(valueOf(in));
        const NodeId copy = piece.graph.addNode(n.op, std::move(ins), n.attrs, n.name);
        for (int p = 0; p < n.numOutputs(); ++p) mapped[{id, p}] = {copy, p};
    }
    for (const ValueRef& v : valuesLeaving(g, nodes)) {
        piece.graph.addOutput("out" + std::to_string(piece.outputs.size()), mapped[v]);
        piece.outputs.push_back(v);
    }
    verifyOrThrow(piece.graph);
    return piece;
}

/// The flat range [begin, end) of a bucket's floats that chunk `c` of `n` covers.
std::pair<std::int64_t, std::int64_t> chunkRange(std::int64_t total, int c, int n) { return {total * c / n, total * (c + 1) / n}; }

struct Store {
    const Graph* graph = nullptr;
    std::mutex mutex;
    std::map<std::pair<int, ValueRef>, Tensor> values;  // (micro-batch, value)
    Tensor get(int microbatch, const ValueRef& v) {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = values.find({microbatch, v});
        if (it == values.end())
            throw Error("'" + graph->valueName(v) + "' is needed before it is made" + (microbatch >= 0 ? " (micro-batch " + std::to_string(microbatch + 1) + ")" : ""));
        return it->second;
    }
    void put(int microbatch, const ValueRef& v, Tensor t) {
        std::lock_guard<std::mutex> lock(mutex);
        values[{microbatch, v}] = std::move(t);
    }
};

Tensor rows(const Tensor& t, std::int64_t begin, std::int64_t count) { return t.slice(0, begin, begin + count).clone(); }

}  // namespace

std::vector<RealStep> runStepsForReal(const PartitionResult& plan, const Tensor& features, const Tensor& targets, float lr, int warmups, int runs) {
    if (warmups < 0 || runs < 1) throw Error("a real run takes at least one timed step");
    if (plan.kind != StrategyKind::DataParallel && plan.kind != StrategyKind::PipelineParallel)
        throw Error("a real run takes data or pipeline parallelism, not " + plan.key);
    if (plan.key == "dp-tree") throw Error("a real run takes the ring all-reduce, not the tree");
    const StepWorkload& w = *plan.workload;
    const Graph& g = w.graph;
    const Cluster& cluster = plan.cluster;
    const int n = int(cluster.devices.size());
    const bool dp = plan.kind == StrategyKind::DataParallel;
    const int shares = dp ? n : plan.microbatches;  // how the batch is cut
    if (features.shape().empty() || features.shape()[0] != w.batch * shares || targets.shape().empty() || targets.shape()[0] != w.batch * shares)
        throw Error("a real run of this plan takes " + std::to_string(w.batch * shares) + " rows");
    const std::vector<SimTask>& tasks = plan.tasks.tasks();
    for (const SimTask& t : tasks)
        if (t.kind == TaskKind::Transfer && cluster.linkBetween(t.device, t.toDevice) < 0)
            throw Error("a real run sends over direct links only");

    // The pieces, the stores and the inputs, before the clock starts.
    std::vector<std::unique_ptr<Piece>> pieces(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].kind == TaskKind::Compute && !tasks[i].nodes.empty()) pieces[i] = std::make_unique<Piece>(extractPiece(g, tasks[i].nodes));
    std::vector<std::unique_ptr<Store>> stores;
    for (int d = 0; d < n; ++d) {
        stores.push_back(std::make_unique<Store>());
        stores.back()->graph = &g;
    }
    std::string featureName;
    for (NodeId id : g.inputNodes())
        if (g.node(id).name != "targets") featureName = g.node(id).name;
    const ValueRef featureValue{*g.findNode(featureName), 0}, targetValue{*g.findNode("targets"), 0};
    std::set<ValueRef> gradients;
    for (const ParameterGradient& p : w.parameters) gradients.insert(p.value);
    std::vector<std::vector<ParameterGradient>> bucketGradients(plan.buckets.size());
    for (std::size_t k = 0; k < plan.buckets.size(); ++k)
        for (const std::string& name : plan.buckets[k])
            for (const ParameterGradient& p : w.parameters)
                if (p.name == name) bucketGradients[k].push_back(p);

    // What one step needs at its start: each device's inputs for its rows and the zero gradients
    // no node makes. Stores are refilled before every step, so each step is the same step.
    auto fillStores = [&] {
        for (int d = 0; d < n; ++d) {
            Store& store = *stores[std::size_t(d)];
            store.values.clear();
            for (int share = 0; share < shares; ++share) {
                if (dp && share != d) continue;
                const int key = dp ? -1 : share;
                store.put(key, featureValue, rows(features, share * w.batch, w.batch));
                store.put(key, targetValue, rows(targets, share * w.batch, w.batch));
                for (const ParameterGradient& p : w.parameters)  // a gradient no node makes: the rule's zeros
                    if (isSource(g.node(p.gradient).op)) store.put(key, p.value, g.node(p.gradient).value.clone());
            }
        }
    };

    // Each device is a thread that runs its computations and sends its transfers in the plan's
    // order (task indices follow dependencies, so the lowest unfinished task can always go on).
    // A device waits as a device does, spinning (giving way to any other runnable thread) rather
    // than sleeping: waking a sleeping thread costs tens to hundreds of microseconds on a virtual
    // machine, which would swamp the steps of small models. After kSpinSeconds without news it
    // sleeps on its condition variable.
    constexpr double kSpinSeconds = 0.05;
    std::mutex mutex;
    std::vector<std::vector<int>> wakes(tasks.size());  // the devices (a transfer's: its sender) a task's end may let go on
    for (std::size_t j = 0; j < tasks.size(); ++j)
        for (int i : tasks[j].after)
            if (std::find(wakes[std::size_t(i)].begin(), wakes[std::size_t(i)].end(), tasks[j].device) == wakes[std::size_t(i)].end())
                wakes[std::size_t(i)].push_back(tasks[j].device);
    std::vector<std::condition_variable> wakeUp(std::size_t(n) + 1);  // each device's, then the caller's
    const std::size_t caller = std::size_t(n);
    std::unique_ptr<std::atomic<bool>[]> done(new std::atomic<bool>[tasks.size()]);
    std::atomic<std::size_t> doneCount{0};
    std::atomic<int> generation{0};  // the step the devices may run (1-based); 0: none yet
    std::atomic<bool> stop{false};   // the run is over, or a task failed
    std::string failure;
    RealStep result;
    // The clock starts when a step is released to devices that already exist (devices exist before
    // a step; making them is no part of its time).
    Clock::time_point start;
    auto now = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
    auto ready = [&](std::size_t i) {
        return std::all_of(tasks[i].after.begin(), tasks[i].after.end(), [&](int d) { return done[std::size_t(d)].load(std::memory_order_acquire); });
    };
    // Device `self` waits until `condition` holds or the run stops; false when it stopped.
    auto waitFor = [&](int self, const auto& condition) {
        const Clock::time_point since = Clock::now();
        while (!condition() && !stop.load(std::memory_order_acquire)) {
            if (std::chrono::duration<double>(Clock::now() - since).count() < kSpinSeconds) {
                std::this_thread::yield();
                continue;
            }
            std::unique_lock<std::mutex> lock(mutex);
            wakeUp[std::size_t(self)].wait(lock, [&] { return condition() || stop.load(std::memory_order_acquire); });
        }
        return !stop.load(std::memory_order_acquire);
    };
    auto finish = [&](std::size_t i, double begin) {
        result.spans[i] = {begin, now()};  // (each task's span is written by its owner alone)
        done[i].store(true, std::memory_order_release);
        const bool last = doneCount.fetch_add(1, std::memory_order_acq_rel) + 1 == tasks.size();
        std::lock_guard<std::mutex> lock(mutex);  // (a sleeping waiter checks under the lock: no lost wake-up)
        for (int d : wakes[i]) wakeUp[std::size_t(d)].notify_one();
        if (last) wakeUp[caller].notify_one();
    };

    auto compute = [&](std::size_t i, Executor& executor) {
        const SimTask& t = tasks[i];
        Store& store = *stores[std::size_t(t.device)];
        const int key = dp ? -1 : t.microbatch;
        if (pieces[i]) {
            const Piece& piece = *pieces[i];
            Bindings bindings;
            for (std::size_t k = 0; k < piece.inputs.size(); ++k) bindings[piece.names[k]] = store.get(key, piece.inputs[k]);
            RunResult out = executor.run(piece.graph, bindings);
            for (std::size_t k = 0; k < piece.outputs.size(); ++k)  // (a gradient is all-reduced in place: a buffer of its own)
                store.put(key, piece.outputs[k], gradients.count(piece.outputs[k]) ? out.outputs[k].clone() : std::move(out.outputs[k]));
        } else if (t.phase == TaskPhase::Update) {  // SGD on the gradients this device holds
            const float scale = lr / float(dp ? n : plan.microbatches);
            for (const ParameterGradient& p : w.parameters) {
                std::vector<Tensor> parts;
                {
                    std::lock_guard<std::mutex> lock(store.mutex);
                    for (int m = dp ? -1 : 0; m < (dp ? 0 : plan.microbatches); ++m)
                        if (auto it = store.values.find({m, p.value}); it != store.values.end()) parts.push_back(it->second.contiguous());
                }
                if (parts.empty()) continue;  // (another stage's parameter)
                Tensor updated = g.node(p.parameter).value.clone();
                float* u = updated.data();
                const std::int64_t count = updated.numel();
                for (const Tensor& part : parts) {
                    const float* gp = part.data();
                    for (std::int64_t e = 0; e < count; ++e) u[e] -= scale * gp[e];
                }
                std::lock_guard<std::mutex> lock(mutex);
                if (t.device == 0 || !dp) result.parameters[p.name] = std::move(updated);
            }
        }
    };
    auto transfer = [&](std::size_t i) {
        const SimTask& t = tasks[i];
        Store& from = *stores[std::size_t(t.device)];
        Store& to = *stores[std::size_t(t.toDevice)];
        double bytes = 0;
        if (t.bucket >= 0) {
            const std::vector<ParameterGradient>& grads = bucketGradients[std::size_t(t.bucket)];
            std::int64_t total = 0;
            for (const ParameterGradient& p : grads) total += numel(g.type(p.value).shape);
            const auto [begin, end] = chunkRange(total, t.chunk, n);
            std::int64_t offset = 0;
            for (const ParameterGradient& p : grads) {
                const std::int64_t size = numel(g.type(p.value).shape);
                const std::int64_t lo = std::max(begin, offset), hi = std::min(end, offset + size);
                if (lo < hi) {
                    const Tensor source = from.get(-1, p.value);
                    Tensor target = to.get(-1, p.value);
                    const float* a = source.data() + (lo - offset);
                    float* b = target.data() + (lo - offset);
                    if (t.reduce)
                        for (std::int64_t e = 0; e < hi - lo; ++e) b[e] += a[e];
                    else std::memcpy(b, a, std::size_t(hi - lo) * sizeof(float));
                    bytes += double(hi - lo) * sizeof(float);
                }
                offset += size;
            }
        } else {
            for (const ValueRef& v : t.values) {
                Tensor copy = from.get(t.microbatch, v).clone();
                bytes += double(copy.numel()) * double(dtypeSize(copy.dtype()));
                to.put(t.microbatch, v, std::move(copy));
            }
        }
        result.sentBytes[std::size_t(t.device)] += bytes;  // (by the sender alone)
        if (t.bucket >= 0) result.allReduceBytes[std::size_t(t.device)] += bytes;
    };
    auto fail = [&](const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        if (failure.empty()) failure = e.what();
        stop.store(true, std::memory_order_release);
        for (std::condition_variable& c : wakeUp) c.notify_all();
    };

    const int total = warmups + runs;
    std::vector<std::thread> threads;
    for (int d = 0; d < n; ++d)
        threads.emplace_back([&, d] {
            // a core of its own when the machine has enough (a device is its own hardware): two
            // spinning devices that the scheduler put on one core would take turns
            pinToOwnCore(d, n);
            tbb::task_arena arena(1);
            std::unique_ptr<Executor> executor = makeCpuExecutor();
            std::vector<std::size_t> computes, sends;  // this device's, in the plan's order
            for (std::size_t i = 0; i < tasks.size(); ++i)
                if (tasks[i].device == d) (tasks[i].kind == TaskKind::Compute ? computes : sends).push_back(i);
            auto run = [&](std::size_t i) {
                const double begin = now();
                try {
                    if (tasks[i].kind == TaskKind::Compute) arena.execute([&] { compute(i, *executor); });
                    else transfer(i);
                } catch (const std::exception& e) {
                    fail(Error(tasks[i].kind == TaskKind::Compute ? cluster.devices[std::size_t(d)].name + ", " + tasks[i].label + ": " + e.what()
                                                                  : tasks[i].label + ": " + e.what()));
                    return false;
                }
                finish(i, begin);
                return true;
            };
            std::vector<char> sent(sends.size());
            for (int step = 1; step <= total; ++step) {
                if (!waitFor(d, [&] { return generation.load(std::memory_order_acquire) >= step; })) return;
                std::fill(sent.begin(), sent.end(), 0);
                std::size_t next = 0, sendsLeft = sends.size();
                // A ready transfer goes first (the first ready in the plan's order), then the next
                // computation once it is ready: the computations keep the plan's order, as the
                // simulator's devices do, and a transfer waits only while its sender computes.
                auto readySend = [&] {
                    for (std::size_t q = 0; q < sends.size(); ++q)
                        if (!sent[q] && ready(sends[q])) return q;
                    return sends.size();
                };
                while (next < computes.size() || sendsLeft > 0) {
                    std::size_t q = sends.size();
                    if (!waitFor(d, [&] { return (q = readySend()) < sends.size() || (next < computes.size() && ready(computes[next])); })) return;
                    if (q < sends.size()) {
                        if (!run(sends[q])) return;
                        sent[q] = 1;
                        --sendsLeft;
                    } else if (!run(computes[next++])) {
                        return;
                    }
                }
            }
        });

    // The steps, one after another: refill the stores, release the step, wait for its last task.
    std::vector<RealStep> steps;
    for (int step = 1; step <= total; ++step) {
        fillStores();
        result = RealStep{};
        result.spans.assign(tasks.size(), {});
        result.sentBytes.assign(std::size_t(n), 0);
        result.allReduceBytes.assign(std::size_t(n), 0);
        for (std::size_t i = 0; i < tasks.size(); ++i) done[i].store(false, std::memory_order_relaxed);
        doneCount.store(0, std::memory_order_relaxed);
        {
            std::unique_lock<std::mutex> lock(mutex);
            start = Clock::now();
            generation.store(step, std::memory_order_release);
            for (std::size_t d = 0; d < std::size_t(n); ++d) wakeUp[d].notify_all();
            wakeUp[caller].wait(lock, [&] { return doneCount.load(std::memory_order_acquire) == tasks.size() || stop.load(std::memory_order_acquire); });
        }
        if (stop.load(std::memory_order_acquire)) break;
        for (const TaskSpan& s : result.spans) result.stepSeconds = std::max(result.stepSeconds, s.end);
        if (step > warmups) steps.push_back(std::move(result));
    }
    {
        std::lock_guard<std::mutex> lock(mutex);
        stop.store(true, std::memory_order_release);
        for (std::condition_variable& c : wakeUp) c.notify_all();
    }
    for (std::thread& t : threads) t.join();
    if (!failure.empty()) throw Error(failure);
    return steps;
}

RealStep runStepForReal(const PartitionResult& plan, const Tensor& features, const Tensor& targets, float lr) {
    return runStepsForReal(plan, features, targets, lr, 0, 1).front();
}

std::map<std::string, Tensor> referenceStep(const Graph& model, train::LossKind loss, const Tensor& features, const Tensor& targets, float lr) {
    const StepWorkload w = buildStepWorkload(model, loss, features.shape().at(0));
    Bindings bindings;
    for (NodeId id : w.graph.inputNodes()) bindings[w.graph.node(id).name] = w.graph.node(id).name == "targets" ? targets : features;
    const RunResult out = makeCpuExecutor()->run(w.graph, bindings);
    std::map<std::string, Tensor> parameters;
    for (const ParameterGradient& p : w.parameters) {
        Tensor gradient;
        for (std::size_t k = 0; k < w.graph.outputs().size(); ++k)
            if (w.graph.outputs()[k].value == p.value) gradient = out.outputs[k];
        Tensor updated = w.graph.node(p.parameter).value.clone();
        const Tensor gc = gradient.contiguous();
        for (std::int64_t e = 0; e < updated.numel(); ++e) updated.data()[e] -= lr * gc.data()[e];
        parameters[p.name] = std::move(updated);
    }
    return parameters;
}

SimResult replayWithMeasuredDurations(const PartitionResult& plan, const RealStep& real) {
    std::vector<SimTask> tasks = plan.tasks.tasks();
    for (std::size_t i = 0; i < tasks.size(); ++i) tasks[i].seconds = std::max(0.0, real.spans[i].end - real.spans[i].start);
    return simulate(plan.cluster, tasks);
}

}  // namespace adj::parallel
