#include "parallel/real_execution.h"

#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "base/errors.h"
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

Piece extractPiece(const Graph& g, const std::vector<NodeId>& nodes, const std::set<ValueRef>& graphOutputs) {
    Piece piece;
    std::set<NodeId> inside(nodes.begin(), nodes.end());
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
    for (NodeId id : nodes) {
        const Node& n = g.node(id);
        for (int p = 0; p < n.numOutputs(); ++p) {
            bool outside = graphOutputs.count({id, p}) != 0;
            for (const Use& u : g.users(id)) outside = outside || (!inside.count(u.user) && g.node(u.user).inputs[std::size_t(u.index)].port == p);
            if (!outside) continue;
            piece.graph.addOutput("out" + std::to_string(piece.outputs.size()), mapped[{id, p}]);
            piece.outputs.push_back({id, p});
        }
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

RealStep runStepForReal(const PartitionResult& plan, const Tensor& features, const Tensor& targets, float lr) {
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
    std::set<ValueRef> graphOutputs;
    for (const GraphOutput& o : g.outputs()) graphOutputs.insert(o.value);
    std::vector<std::unique_ptr<Piece>> pieces(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].kind == TaskKind::Compute && !tasks[i].nodes.empty()) pieces[i] = std::make_unique<Piece>(extractPiece(g, tasks[i].nodes, graphOutputs));
    std::vector<std::unique_ptr<Store>> stores;
    for (int d = 0; d < n; ++d) {
        stores.push_back(std::make_unique<Store>());
        stores.back()->graph = &g;
    }
    std::string featureName;
    for (NodeId id : g.inputNodes())
        if (g.node(id).name != "targets") featureName = g.node(id).name;
    const ValueRef featureValue{*g.findNode(featureName), 0}, targetValue{*g.findNode("targets"), 0};
    for (int d = 0; d < n; ++d)
        for (int share = 0; share < shares; ++share) {
            if (dp && share != d) continue;
            const int key = dp ? -1 : share;
            stores[std::size_t(d)]->put(key, featureValue, rows(features, share * w.batch, w.batch));
            stores[std::size_t(d)]->put(key, targetValue, rows(targets, share * w.batch, w.batch));
            for (const ParameterGradient& p : w.parameters)  // a gradient no node makes: the rule's zeros
                if (isSource(g.node(p.gradient).op)) stores[std::size_t(d)]->put(key, p.value, g.node(p.gradient).value.clone());
        }
    std::set<ValueRef> gradients;
    for (const ParameterGradient& p : w.parameters) gradients.insert(p.value);
    std::vector<std::vector<ParameterGradient>> bucketGradients(plan.buckets.size());
    for (std::size_t k = 0; k < plan.buckets.size(); ++k)
        for (const std::string& name : plan.buckets[k])
            for (const ParameterGradient& p : w.parameters)
                if (p.name == name) bucketGradients[k].push_back(p);

    RealStep result;
    result.spans.assign(tasks.size(), {});
    result.sentBytes.assign(std::size_t(n), 0);
    result.allReduceBytes.assign(std::size_t(n), 0);
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<char> done(tasks.size(), 0);
    std::vector<double> doneAt(tasks.size(), 0);
    std::string failure;
    const Clock::time_point start = Clock::now();
    auto now = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
    auto ready = [&](std::size_t i) {
        return std::all_of(tasks[i].after.begin(), tasks[i].after.end(), [&](int d) { return done[std::size_t(d)] != 0; });
    };
    auto finish = [&](std::size_t i, double begin) {
        std::lock_guard<std::mutex> lock(mutex);
        result.spans[i] = {begin, now()};
        doneAt[i] = result.spans[i].end;
        done[i] = 1;
        changed.notify_all();
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
            for (const ParameterGradient& p : w.parameters) {
                Tensor sum;
                int count = 0;
                for (int m = dp ? -1 : 0; m < (dp ? 0 : plan.microbatches); ++m) {
                    std::lock_guard<std::mutex> lock(store.mutex);
                    auto it = store.values.find({m, p.value});
                    if (it == store.values.end()) continue;
                    if (!sum.defined()) sum = it->second.clone();
                    else {
                        float* s = sum.data();
                        const Tensor part = it->second.contiguous();
                        for (std::int64_t e = 0; e < sum.numel(); ++e) s[e] += part.data()[e];
                    }
                    ++count;
                }
                if (!count) continue;  // (another stage's parameter)
                Tensor updated = g.node(p.parameter).value.clone();
                float* u = updated.data();
                const float scale = lr / float(dp ? n : plan.microbatches);
                for (std::int64_t e = 0; e < updated.numel(); ++e) u[e] -= scale * sum.data()[e];
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
        std::lock_guard<std::mutex> lock(mutex);
        result.sentBytes[std::size_t(t.device)] += bytes;
        if (t.bucket >= 0) result.allReduceBytes[std::size_t(t.device)] += bytes;
    };
    auto fail = [&](const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        if (failure.empty()) failure = e.what();
        changed.notify_all();
    };

    std::vector<std::thread> threads;
    for (int d = 0; d < n; ++d)
        threads.emplace_back([&, d] {
            tbb::task_arena arena(1);
            std::unique_ptr<Executor> executor = makeCpuExecutor();
            for (std::size_t i = 0; i < tasks.size(); ++i) {
                if (tasks[i].kind != TaskKind::Compute || tasks[i].device != d) continue;
                {
                    std::unique_lock<std::mutex> lock(mutex);
                    changed.wait(lock, [&] { return ready(i) || !failure.empty(); });
                    if (!failure.empty()) return;
                }
                const double begin = now();
                try {
                    arena.execute([&] { compute(i, *executor); });
                } catch (const std::exception& e) {
                    fail(Error(cluster.devices[std::size_t(d)].name + ", " + tasks[i].label + ": " + e.what()));
                    return;
                }
                finish(i, begin);
            }
        });
    // one thread per direction of each link that carries something: first ready, first sent
    std::map<std::pair<int, int>, std::vector<std::size_t>> directions;
    for (std::size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].kind == TaskKind::Transfer) directions[{tasks[i].link, tasks[i].device}].push_back(i);
    for (const auto& [direction, list] : directions)
        threads.emplace_back([&, queue = list] {
            std::vector<char> sent(queue.size(), 0);
            for (std::size_t left = queue.size(); left > 0; --left) {
                std::size_t pick = queue.size();
                {
                    std::unique_lock<std::mutex> lock(mutex);
                    changed.wait(lock, [&] {
                        if (!failure.empty()) return true;
                        double best = 0;
                        pick = queue.size();
                        for (std::size_t q = 0; q < queue.size(); ++q) {
                            if (sent[q] || !ready(queue[q])) continue;
                            double at = 0;
                            for (int dep : tasks[queue[q]].after) at = std::max(at, doneAt[std::size_t(dep)]);
                            if (pick == queue.size() || at < best) pick = q, best = at;
                        }
                        return pick < queue.size();
                    });
                    if (!failure.empty()) return;
                }
                sent[pick] = 1;
                const double begin = now();
                try {
                    transfer(queue[pick]);
                } catch (const std::exception& e) {
                    fail(Error(tasks[queue[pick]].label + ": " + e.what()));
                    return;
                }
                finish(queue[pick], begin);
            }
        });
    for (std::thread& t : threads) t.join();
    if (!failure.empty()) throw Error(failure);
    for (const TaskSpan& s : result.spans) result.stepSeconds = std::max(result.stepSeconds, s.end);
    return result;
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
