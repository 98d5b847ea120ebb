// adjoint-cli memory: the memory plan of a graph, of its backward graph (--backward --of OUT) or of
// its training step (--train), in the topological order or the one that lowers the peak
// (--order min-peak): the planned peak (arena plus output buffers), the lower bound, the sum
// without reuse, the activations the backward pass keeps, what is live at the peak, and each
// tensor's lifetime over the schedule (runtime/memory_plan.h, runtime/memory_schedule.h).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "passes/checkpointing.h"
#include "base/byte_size.h"
#include "base/errors.h"
#include "commands.h"
#include "runtime/memory_plan.h"
#include "train/memory_report.h"

namespace adj::cli {

namespace {

std::string_view placementName(BufferPlacement p) {
    switch (p) {
        case BufferPlacement::Arena: return "arena";
        case BufferPlacement::Own: return "output";
        case BufferPlacement::View: return "view";
        case BufferPlacement::InPlace: return "in-place";
    }
    return "?";
}

std::string fixed(double v, int digits) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", digits, v);
    return text;
}

}  // namespace

int cmdMemory(const std::vector<std::string>& argv, Context& ctx) {
    Args args(argv, {{"--backward", false}, {"--of"}, {"--train", false}, {"--loss"}, {"--optimizer"}, {"--batch"}, {"--order"}, {"--checkpoint"}, {"--json", false}});
    const std::string path = graphArgument(args, "memory");
    const bool backward = args.has("--backward"), training = args.has("--train");
    if (backward && training) throw UsageError("memory takes --backward or --train, not both");
    if (args.has("--of") && !backward) throw UsageError("--of goes with --backward");
    for (const char* option : {"--loss", "--optimizer", "--batch"})
        if (args.has(option) && !training) throw UsageError(std::string(option) + " goes with --train");
    ScheduleOrder order = ScheduleOrder::Topological;
    if (auto o = args.value("--order")) {
        auto k = scheduleOrderFromName(*o);
        if (!k) throw UsageError("--order must be topo or min-peak, got '" + *o + "'");
        order = *k;
    }
    CheckpointPolicy checkpoint;
    if (auto c = args.value("--checkpoint")) {
        if (!backward && !training) throw UsageError("--checkpoint goes with --backward or --train");
        std::string why;
        auto p = parseCheckpointPolicy(*c, &why);
        if (!p) throw UsageError("--checkpoint: " + why);
        checkpoint = *p;
    }
    train::MemoryRequest request;
    request.order = order;
    request.checkpoint = checkpoint;
    const Graph input = loadCheckedGraph(path);
    if (backward) {
        request.pass = train::MemoryPass::Backward;
        if (args.has("--of")) request.of = outputArgument(args, input);  // (else the first scalar output)
    } else if (training) {
        request.pass = train::MemoryPass::TrainingStep;
        if (auto o = args.value("--optimizer")) {
            auto k = train::parseOptimizerKind(*o);
            if (!k) throw UsageError("--optimizer must be sgd, momentum or adam, got '" + *o + "'");
            request.optimizer.kind = *k;
        }
        if (auto l = args.value("--loss")) {
            auto k = train::parseLossKind(*l);
            if (!k) throw UsageError("--loss must be cross-entropy or mse, got '" + *l + "'");
            request.loss = *k;
        }
        request.batchSize = countArgument(args, "--batch", 64, 1, 1 << 20);
    }
    train::MemoryReport report;
    try {
        report = train::memoryReport(input, request);
    } catch (const Error& e) {
        throw BadInput(path + ": " + e.what());
    }
    const Graph& g = report.graph;
    const MemoryPlan& plan = report.plan;
    const std::vector<std::int64_t>& live = report.live;
    const std::int64_t activations = report.activationBytes;
    const int peakStep = report.peakStep;
    const CheckpointResult& recompute = report.recompute;
    const std::string& mode = report.mode;
    const bool hasForward = !report.forward.empty();
    std::vector<const PlannedValue*> atPeak;
    for (const PlannedValue& v : plan.values)
        if ((v.placement == BufferPlacement::Arena || v.placement == BufferPlacement::Own) && v.defined <= peakStep && peakStep <= v.lastUse)
            atPeak.push_back(&v);
    std::stable_sort(atPeak.begin(), atPeak.end(), [](const PlannedValue* a, const PlannedValue* b) { return a->bytes > b->bytes; });
    int inPlace = 0;
    for (const PlannedValue& v : plan.values) inPlace += v.placement == BufferPlacement::InPlace;

    if (args.has("--json")) {
        nlohmann::json timeline = nlohmann::json::array();
        for (const PlannedValue& v : plan.values) {
            if (v.placement == BufferPlacement::View) continue;
            nlohmann::json e{{"value", g.valueName(v.value)},
                             {"node", g.node(v.value.node).name},
                             {"op", std::string(opName(g.node(v.value.node).op))},
                             {"bytes", v.bytes},
                             {"start", v.defined},
                             {"end", v.lastUse},
                             {"placement", std::string(placementName(v.placement))}};
            if (v.placement == BufferPlacement::Arena) e["offset"] = v.offset;
            if (v.placement == BufferPlacement::InPlace) e["writes_over"] = g.valueName(v.overwrites);
            if (hasForward) e["forward"] = report.isForward(v.value.node);
            if (auto r = g.node(v.value.node).meta.find("recompute_of"); r != g.node(v.value.node).meta.end()) e["recompute_of"] = r->second;
            timeline.push_back(std::move(e));
        }
        nlohmann::json peakNames = nlohmann::json::array();
        for (const PlannedValue* v : atPeak) peakNames.push_back(g.valueName(v->value));
        ctx.out << nlohmann::json{{"graph", g.name},
                                  {"mode", mode},
                                  {"order", std::string(scheduleOrderName(order))},
                                  {"steps", plan.schedule.size()},
                                  {"peak_bytes", plan.plannedPeakBytes()},
                                  {"arena_bytes", plan.arenaBytes},
                                  {"output_bytes", plan.ownBytes},
                                  {"lower_bound_bytes", plan.lowerBoundBytes},
                                  {"no_reuse_bytes", plan.noReuseBytes},
                                  {"activation_bytes", activations},
                                  {"in_place", inPlace},
                                  {"checkpoint", checkpointPolicyName(checkpoint)},
                                  {"recomputed", recompute.recomputed.size()},
                                  {"recompute_flops", recompute.recomputeFlops},
                                  {"peak_step", peakStep},
                                  {"live_at_peak", peakNames},
                                  {"live_bytes", live},
                                  {"timeline", timeline}}
                       .dump()
                << "\n";
        return kOk;
    }
    ctx.out << "memory of " << path << ": " << mode << ", " << scheduleOrderName(order) << " order, " << plan.schedule.size() << " steps\n";
    ctx.out << "planned peak " << plan.plannedPeakBytes() << " B (" << readableBytes(plan.plannedPeakBytes()) << "): arena " << plan.arenaBytes
            << " B, outputs " << plan.ownBytes << " B\n";
    ctx.out << "lower bound " << plan.lowerBoundBytes << " B; without reuse " << plan.noReuseBytes << " B (planned peak "
            << fixed(plan.noReuseBytes > 0 ? double(plan.plannedPeakBytes()) / double(plan.noReuseBytes) : 1.0, 2) << "x of it); "
            << inPlace << " values written in place\n";
    if (hasForward) ctx.out << "activations kept for the backward pass: " << activations << " B (" << readableBytes(activations) << ")\n";
    if (checkpoint.kind != CheckpointPolicy::Kind::None)
        ctx.out << "checkpointing " << checkpointPolicyName(checkpoint) << ": " << recompute.recomputed.size()
                << " forward nodes computed again in the backward pass (" << formatNumber(recompute.recomputeFlops) << " FLOPs)\n";
    if (!atPeak.empty()) {
        ctx.out << "live at the peak (step " << peakStep << ", '" << g.node(plan.schedule[std::size_t(peakStep)]).name << "'):\n";
        const std::size_t shown = std::min<std::size_t>(atPeak.size(), 10);
        for (std::size_t i = 0; i < shown; ++i)
            ctx.out << "  " << g.valueName(atPeak[i]->value) << "  " << atPeak[i]->bytes << " B  (steps " << atPeak[i]->defined << "-"
                    << atPeak[i]->lastUse << ")\n";
        if (atPeak.size() > shown) ctx.out << "  ... and " << atPeak.size() - shown << " more\n";
    }
    return kOk;
}

}  // namespace adj::cli
