// adjoint-cli bench: how long one forward pass takes, as an inference runtime is measured. The graph
// is loaded, checked and bound once; the executor plans its memory on the first run and keeps the
// plan (and, on Vulkan, the resident parameters) for the runs after it. K warm-up runs, then N timed
// runs; the figures are the median, min and max of the timed runs, and the most bytes one run held.
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "base/errors.h"
#include "base/median.h"
#include "base/rng.h"
#include "runtime/bindings.h"
#include "commands.h"

namespace adj::cli {

namespace {

/// Seeded standard-normal values of the declared shape for every graph input not bound by --input
/// (indices for an i64 input).
void bindRandomInputs(const Graph& g, Bindings& bindings, std::uint64_t seed) {
    Rng rng(seed);
    for (NodeId id : g.inputNodes()) {
        const Node& n = g.node(id);
        if (bindings.count(n.name)) continue;
        if (n.declaredDType != DType::F32) {  // indices: valid ones, uniform over the gathered axis; bools at random; other floats normal
            bindings[n.name] = sampleIntegerInput(g, id, n.declaredShape, rng);
            continue;
        }
        Tensor t = Tensor::empty(n.declaredShape);
        float* p = t.data();
        for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = float(rng.normal());
        bindings[n.name] = std::move(t);
    }
}

std::string formatMs(double ms) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(3);
    s << ms;
    return s.str();
}

}  // namespace

int cmdBench(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--input", true, true},
                     {"--backend", true},
                     {"--fallback", false},
                     {"--repeat", true},
                     {"--warmup", true},
                     {"--threads", true},
                     {"--seed", true},
                     {"--json", false}});
    const std::string path = graphArgument(args, "bench");
    const int repeat = countArgument(args, "--repeat", 20, 1, 100000);
    const int warmup = countArgument(args, "--warmup", 3, 0, 100000);
    const int threads = countArgument(args, "--threads", tbb::info::default_concurrency(), 1, 4096);
    const std::uint64_t seed = std::uint64_t(countArgument(args, "--seed", 1, 0, 1 << 30));

    Graph g = loadCheckedGraph(path, args);
    Bindings bindings = readBindings(args, g);
    checkMemoryFits(g, bindings, path);
    bindRandomInputs(g, bindings, seed);
    auto exec = makeBackend(args, ctx.err);

    // Every run inside one arena of T threads: the kernels' parallel loops use at most T.
    tbb::task_arena arena(threads);
    std::vector<double> ms;
    std::int64_t peakBytes = 0;
    auto runOnce = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        const RunResult r = exec->run(g, bindings);
        const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        peakBytes = std::max(peakBytes, r.peakLiveBytes);
        return elapsed;
    };
    try {
        arena.execute([&] {
            for (int i = 0; i < warmup; ++i) runOnce();
            for (int i = 0; i < repeat; ++i) ms.push_back(runOnce());
        });
    } catch (const Error& e) {
        throw BadInput(path + ": " + e.what());
    }

    const double middle = median(ms);
    const double low = *std::min_element(ms.begin(), ms.end()), high = *std::max_element(ms.begin(), ms.end());
    if (args.has("--json")) {
        nlohmann::json j{{"median_ms", middle}, {"min_ms", low},           {"max_ms", high},           {"runs", repeat},
                         {"warmup", warmup},    {"peak_bytes", peakBytes}, {"backend", exec->name()}, {"device", exec->deviceName()},
                         {"threads", threads}};
        ctx.out << j.dump() << "\n";
    } else {
        ctx.out << path << " on " << exec->deviceName() << ", " << threads << " thread" << (threads == 1 ? "" : "s") << ": median "
                << formatMs(middle) << " ms (min " << formatMs(low) << ", max " << formatMs(high) << ") over " << repeat << " runs after "
                << warmup << " warm-up" << (warmup == 1 ? "" : "s") << "; peak " << peakBytes << " bytes\n";
    }
    return kOk;
}

}  // namespace adj::cli
