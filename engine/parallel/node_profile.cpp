#include "parallel/node_profile.h"

#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <list>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "base/rng.h"
#include "base/thread_affinity.h"
#include "ir/printer.h"
#include "runtime/executor.h"

namespace adj::parallel {

namespace {

Bindings randomStepInputs(const Graph& g) {
    Bindings bindings;
    Rng rng(7);
    for (NodeId id : g.inputNodes()) {
        const Node& n = g.node(id);
        const Shape& shape = g.type({id, 0}).shape;
        if (n.name == "targets" && shape.size() == 2) {  // one-hot rows
            Tensor t = Tensor::zeros(shape);
            for (std::int64_t r = 0; r < shape[0]; ++r) t.data()[r * shape[1] + std::int64_t(rng.next() % std::uint64_t(shape[1]))] = 1.f;
            bindings[n.name] = std::move(t);
        } else {
            Tensor t = Tensor::empty(shape);
            for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = float(rng.normal());
            bindings[n.name] = std::move(t);
        }
    }
    return bindings;
}

NodeProfile measure(const Graph& g, int concurrent) {
    const Bindings bindings = randomStepInputs(g);
    std::vector<std::vector<double>> runs;
    std::vector<double> overheads;
    std::mutex mutex;
    auto device = [&](int index) {
        pinToOwnCore(index, concurrent);  // (as the devices of a real run are)
        tbb::task_arena arena(1);
        arena.execute([&] {
            std::unique_ptr<Executor> executor = makeCpuExecutor();
            for (int k = 0; k <= kMeasuredRuns; ++k) {
                const auto t0 = std::chrono::steady_clock::now();
                RunResult r = executor->run(g, bindings);
                const double micros = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
                if (k == 0) continue;  // (the first run warms up)
                double nodes = 0;
                for (double t : r.nodeMicros) nodes += t;
                std::lock_guard<std::mutex> lock(mutex);
                overheads.push_back(std::max(0.0, micros - nodes) * 1e-6);
                runs.push_back(std::move(r.nodeMicros));
            }
        });
    };
    std::vector<std::thread> devices;
    std::exception_ptr failure;
    for (int t = 0; t < concurrent; ++t)
        devices.emplace_back([&, t] {
            try {
                device(t);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex);
                if (!failure) failure = std::current_exception();
            }
        });
    for (std::thread& t : devices) t.join();
    if (failure) std::rethrow_exception(failure);
    NodeProfile profile;
    std::vector<double>& seconds = profile.seconds;
    seconds.assign(std::size_t(g.idBound()), 0.0);
    std::vector<double> samples;
    for (std::size_t id = 0; id < seconds.size(); ++id) {
        samples.clear();
        for (const std::vector<double>& r : runs)
            if (id < r.size()) samples.push_back(r[id]);
        if (samples.empty()) continue;
        std::nth_element(samples.begin(), samples.begin() + std::ptrdiff_t(samples.size() / 2), samples.end());
        seconds[id] = samples[samples.size() / 2] * 1e-6;
    }
    std::nth_element(overheads.begin(), overheads.begin() + std::ptrdiff_t(overheads.size() / 2), overheads.end());
    profile.runSeconds = overheads[overheads.size() / 2];
    return profile;
}

}  // namespace

NodeProfile measureNodeSeconds(const StepWorkload& w, int concurrent) {
    static std::mutex mutex;
    static std::list<std::pair<std::string, NodeProfile>> cache;  // most recent first
    constexpr std::size_t kKept = 16;
    concurrent = std::max(1, concurrent);
    const std::string key = std::to_string(w.batch) + " " + std::to_string(concurrent) + "\n" + printGraph(w.graph);
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto it = cache.begin(); it != cache.end(); ++it)
            if (it->first == key) {
                cache.splice(cache.begin(), cache, it);
                return it->second;
            }
    }
    NodeProfile profile = measure(w.graph, concurrent);
    std::lock_guard<std::mutex> lock(mutex);
    cache.emplace_front(key, profile);
    if (cache.size() > kKept) cache.pop_back();
    return profile;
}

}  // namespace adj::parallel
