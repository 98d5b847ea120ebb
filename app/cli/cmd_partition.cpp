// adjoint-cli partition: one training step of a model simulated over a cluster of devices under a
// partitioning strategy (parallel/strategies.h): the step time, each device's busy time and peak
// memory, the bytes on each link. --strategy auto compares every strategy that applies and keeps
// the fastest that fits.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <cmath>
#include <ostream>

#include "base/byte_size.h"
#include "base/errors.h"
#include "base/files.h"
#include "commands.h"
#include "base/median.h"
#include "base/rng.h"
#include "parallel/real_execution.h"
#include "parallel/step_workload.h"
#include "parallel/strategies.h"

namespace adj::cli {

namespace {

std::string ms(double seconds) {
    char text[48];
    std::snprintf(text, sizeof text, "%.3f", seconds * 1e3);
    return text;
}

std::string padded(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

parallel::Cluster clusterArgument(const Args& args) {
    const auto value = args.value("--cluster");
    if (!value) throw UsageError("partition needs --cluster FILE.json or a preset (pcie2, nvlink8, ethernet2, local)");
    if (auto preset = parallel::clusterPreset(*value)) return *preset;
    try {
        return parallel::loadCluster(*value);
    } catch (const FileError& e) {
        std::string presets;
        for (const std::string& p : parallel::clusterPresetNames()) presets += (presets.empty() ? "" : ", ") + p;
        throw BadInput("--cluster: '" + *value + "' is neither a preset (" + presets + ") nor a readable cluster file (" + e.reason() + ")");
    } catch (const Error& e) {
        throw BadInput(e.what());
    }
}

nlohmann::json resultJson(const parallel::PartitionResult& r) {
    nlohmann::json devices = nlohmann::json::array(), links = nlohmann::json::array();
    for (const parallel::DeviceUse& d : r.devices)
        devices.push_back({{"name", d.name}, {"busy_ms", d.busySeconds * 1e3}, {"peak_bytes", d.peakBytes}, {"memory_bytes", d.memoryBytes}});
    for (const parallel::LinkUse& l : r.links)
        links.push_back({{"between", {l.a, l.b}}, {"bytes", l.bytes}, {"busy_ms", l.busySeconds * 1e3}});
    nlohmann::json j{{"strategy", r.key},     {"description", r.description}, {"step_ms", r.stepSeconds * 1e3},
                     {"batch", r.batch},      {"microbatches", r.microbatches}, {"fits", r.fits()},
                     {"devices", devices},    {"links", links}};
    if (r.kind == parallel::StrategyKind::DataParallel) {
        j["gradient_bytes"] = r.gradientBytes;
        j["allreduce_bytes_per_device"] = r.allReduceBytesPerDevice;
    }
    return j;
}

void printResult(std::ostream& out, const parallel::PartitionResult& r) {
    out << r.description << "\n";
    out << "step " << ms(r.stepSeconds) << " ms\n";
    out << "  " << padded("device", 12) << padded("busy ms", 12) << padded("busy", 8) << padded("peak memory", 14) << "of\n";
    for (const parallel::DeviceUse& d : r.devices) {
        char busy[16];
        std::snprintf(busy, sizeof busy, "%.0f%%", r.stepSeconds > 0 ? 100.0 * d.busySeconds / r.stepSeconds : 0.0);
        out << "  " << padded(d.name, 12) << padded(ms(d.busySeconds), 12) << padded(busy, 8)
            << padded(readableBytes(std::int64_t(d.peakBytes)), 14) << readableBytes(std::int64_t(d.memoryBytes)) << "\n";
    }
    bool anyTraffic = false;
    for (const parallel::LinkUse& l : r.links) anyTraffic = anyTraffic || l.bytes > 0;
    if (anyTraffic) {
        out << "  " << padded("link", 24) << padded("bytes", 14) << "busy ms\n";
        for (const parallel::LinkUse& l : r.links)
            if (l.bytes > 0) out << "  " << padded(l.a + " - " + l.b, 24) << padded(readableBytes(std::int64_t(l.bytes)), 14) << ms(l.busySeconds) << "\n";
    }
    if (r.kind == parallel::StrategyKind::DataParallel && r.devices.size() > 1)
        out << "all-reduce: " << readableBytes(std::int64_t(r.gradientBytes)) << " of gradients; each device sent "
            << readableBytes(std::int64_t(r.allReduceBytesPerDevice)) << "\n";
}

/// The run whose step time is the median one (the lower middle for an even count).
const parallel::RealStep& medianRun(const std::vector<parallel::RealStep>& runs) {
    std::vector<std::size_t> order(runs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return runs[a].stepSeconds < runs[b].stepSeconds; });
    return runs[order[(order.size() - 1) / 2]];
}

/// The summed task time of each phase, simulated and measured in one real run: where the cost
/// model and the machine part.
struct PhaseTimes {
    std::string phase;
    int tasks = 0;
    double simulated = 0, measured = 0;
};

std::vector<PhaseTimes> phaseTimes(const parallel::PartitionResult& plan, const parallel::RealStep& run) {
    std::vector<PhaseTimes> out;
    const std::vector<parallel::SimTask>& tasks = plan.tasks.tasks();
    for (std::size_t i = 0; i < tasks.size() && i < run.spans.size(); ++i) {
        const std::string name = std::string(tasks[i].kind == parallel::TaskKind::Transfer ? "send " : "") + parallel::taskPhaseName(tasks[i].phase);
        auto it = std::find_if(out.begin(), out.end(), [&](const PhaseTimes& p) { return p.phase == name; });
        if (it == out.end()) it = out.insert(out.end(), PhaseTimes{name});
        ++it->tasks;
        it->simulated += tasks[i].seconds;
        it->measured += run.spans[i].end - run.spans[i].start;
    }
    return out;
}

}  // namespace

int cmdPartition(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--cluster"},
                     {"--strategy"},
                     {"--devices"},
                     {"--microbatches"},
                     {"--batch"},
                     {"--allreduce"},
                     {"--schedule"},
                     {"--loss"},
                     {"--run", false},
                     {"--repeat"},
                     {"--json", false}});
    const std::string path = graphArgument(args, "partition");
    const std::string strategy = args.value("--strategy").value_or("auto");
    const bool automatic = strategy == "auto";
    parallel::PartitionOptions options;
    if (!automatic) {
        auto kind = parallel::strategyFromName(strategy);
        if (!kind) throw UsageError("--strategy must be dp, pp, tp, placement or auto, got '" + strategy + "'");
        options.kind = *kind;
    }
    options.devices = countArgument(args, "--devices", 0, 1, 1024);
    options.microbatches = countArgument(args, "--microbatches", 4, 1, 4096);
    options.batch = countArgument(args, "--batch", 0, 1, 1 << 24);
    if (auto a = args.value("--allreduce")) {
        if (*a != "ring" && *a != "tree") throw UsageError("--allreduce must be ring or tree, got '" + *a + "'");
        options.allReduce = *a == "ring" ? parallel::AllReduceAlgorithm::Ring : parallel::AllReduceAlgorithm::Tree;
    }
    if (auto s = args.value("--schedule")) {
        if (*s != "gpipe" && *s != "1f1b") throw UsageError("--schedule must be gpipe or 1f1b, got '" + *s + "'");
        options.schedule = *s == "gpipe" ? parallel::PipelineSchedule::GPipe : parallel::PipelineSchedule::OneFOneB;
    }
    if (auto l = args.value("--loss")) {
        auto k = train::parseLossKind(*l);
        if (!k) throw UsageError("--loss must be cross-entropy or mse, got '" + *l + "'");
        options.loss = *k;
    }
    const parallel::Cluster cluster = clusterArgument(args);
    if (options.devices > int(cluster.devices.size()))
        throw BadInput("--devices " + std::to_string(options.devices) + ": cluster '" + cluster.name + "' has " + std::to_string(cluster.devices.size()) +
                       " devices");
    const Graph model = loadCheckedGraph(path);

    std::vector<parallel::PartitionResult> results;
    try {
        if (automatic) results = parallel::compareStrategies(model, cluster, options);
        else results.push_back(parallel::simulatePartition(model, cluster, options));
    } catch (const Error& e) {
        throw BadInput(path + ": " + e.what());
    }
    const parallel::PartitionResult& chosen = results.front();
    if (!chosen.fits()) {
        std::vector<std::string> lines;
        for (const parallel::PartitionResult& r : results)
            lines.push_back(path + ": the model does not fit on cluster '" + cluster.name + "' under " + r.key + ": " + r.overflow);
        throw BadInput(lines);
    }
    // --run: the chosen plan for real, each device an arena of one thread (parallel/real_execution.h)
    std::vector<double> measured;
    std::vector<parallel::RealStep> runs;
    if (args.has("--run")) {
        const int repeat = countArgument(args, "--repeat", 5, 1, 1000);
        const std::int64_t rows = chosen.batch;
        Shape featureShape = model.node(model.inputNodes().front()).declaredShape;
        featureShape[0] = rows;
        const Shape outputShape = model.type(model.outputs().front().value).shape;
        Rng rng(1);
        Tensor features = Tensor::empty(featureShape), targets = Tensor::zeros({rows, outputShape.back()});
        for (std::int64_t i = 0; i < features.numel(); ++i) features.data()[i] = float(rng.normal());
        for (std::int64_t r = 0; r < rows; ++r) targets.data()[r * outputShape.back() + std::int64_t(rng.next() % std::uint64_t(outputShape.back()))] = 1.f;
        try {
            runs = parallel::runStepsForReal(chosen, features, targets, 0.01f, 2, repeat);
            for (const parallel::RealStep& r : runs) measured.push_back(r.stepSeconds);
        } catch (const Error& e) {
            throw BadInput(path + ": --run: " + e.what());
        }
    }
    if (args.has("--json")) {
        nlohmann::json j = resultJson(chosen);
        if (!measured.empty()) {
            j["measured_ms"] = median(measured) * 1e3;
            j["measured_runs"] = measured.size();
            nlohmann::json phases = nlohmann::json::array();
            for (const PhaseTimes& p : phaseTimes(chosen, medianRun(runs)))
                phases.push_back({{"phase", p.phase}, {"tasks", p.tasks}, {"simulated_ms", p.simulated * 1e3}, {"measured_ms", p.measured * 1e3}});
            j["measured_phases"] = phases;
        }
        j["graph"] = model.name;
        j["cluster"] = cluster.name;
        if (automatic) {
            nlohmann::json candidates = nlohmann::json::array();
            for (const parallel::PartitionResult& r : results)
                candidates.push_back({{"strategy", r.key}, {"step_ms", r.stepSeconds * 1e3}, {"fits", r.fits()}, {"description", r.description}});
            j["candidates"] = candidates;
        }
        ctx.out << j.dump() << "\n";
        return kOk;
    }
    ctx.out << "partition of " << path << " on " << cluster.name << (cluster.description.empty() ? "" : " (" + cluster.description + ")") << "\n";
    if (automatic) {
        ctx.out << "  " << padded("strategy", 12) << padded("step ms", 12) << "\n";
        for (const parallel::PartitionResult& r : results)
            ctx.out << "  " << padded(r.key, 12) << padded(ms(r.stepSeconds), 12) << (r.fits() ? "" : "does not fit: " + r.overflow)
                    << (&r == &chosen ? "<- fastest" : "") << "\n";
    }
    printResult(ctx.out, chosen);
    if (!measured.empty())
        ctx.out << "run for real (each device a thread with a oneTBB arena of one): " << ms(median(measured)) << " ms a step (median of " << measured.size()
                << "), simulated " << ms(chosen.stepSeconds) << " ms (" << std::to_string(int(std::lround(100 * chosen.stepSeconds / median(measured))))
                << "% of it)\n";
    if (!runs.empty()) {
        ctx.out << "  " << padded("task time by phase", 22) << padded("tasks", 8) << padded("simulated ms", 15) << "measured ms (that run)\n";
        for (const PhaseTimes& p : phaseTimes(chosen, medianRun(runs)))
            ctx.out << "  " << padded(p.phase, 22) << padded(std::to_string(p.tasks), 8) << padded(ms(p.simulated), 15) << ms(p.measured) << "\n";
    }
    return kOk;
}

}  // namespace adj::cli
