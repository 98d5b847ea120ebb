#include "runtime/memory_plan.h"

#include <algorithm>
#include <limits>

#include "base/errors.h"
#include "ir/shape_inference.h"
#include "runtime/bindings.h"
#include "runtime/memory_schedule.h"

namespace adj {

const PlannedValue* MemoryPlan::find(ValueRef v) const {
    if (v.node < 0 || std::size_t(v.node) >= firstValueOfNode.size()) return nullptr;
    const int first = firstValueOfNode[std::size_t(v.node)];
    if (first < 0) return nullptr;
    const std::size_t i = std::size_t(first) + std::size_t(v.port);
    if (v.port < 0 || i >= values.size() || values[i].value != v) return nullptr;
    return &values[i];
}

const PlannedValue* MemoryPlan::bufferOf(ValueRef v) const {
    const PlannedValue* p = find(v);
    while (p && (p->placement == BufferPlacement::View || p->placement == BufferPlacement::InPlace)) p = find(p->aliasOf);
    return p;
}

std::vector<std::int64_t> MemoryPlan::liveBytesByStep() const {
    std::vector<std::int64_t> live(schedule.size() + 1, 0);
    for (const PlannedValue& v : values) {
        if (v.placement != BufferPlacement::Arena && v.placement != BufferPlacement::Own) continue;
        live[std::size_t(v.defined)] += v.bytes;
        live[std::size_t(v.lastUse) + 1] -= v.bytes;
    }
    for (std::size_t s = 1; s < live.size(); ++s) live[s] += live[s - 1];
    live.pop_back();
    return live;
}

std::vector<char> savedActivationBuffers(const Graph& g, const MemoryPlan& plan, const std::vector<char>& forward) {
    auto inForward = [&](NodeId id) { return std::size_t(id) < forward.size() && forward[std::size_t(id)]; };
    std::vector<char> saved(plan.values.size(), 0);
    for (NodeId id : plan.schedule) {
        if (inForward(id)) continue;
        for (const auto& in : g.node(id).inputs)
            if (inForward(in.node))
                if (const PlannedValue* b = plan.bufferOf(in)) saved[std::size_t(b - plan.values.data())] = 1;
    }
    return saved;
}

std::int64_t savedActivationBytes(const Graph& g, const MemoryPlan& plan, const std::vector<char>& forward) {
    const std::vector<char> saved = savedActivationBuffers(g, plan, forward);
    std::int64_t bytes = 0;
    for (std::size_t i = 0; i < saved.size(); ++i)
        if (saved[i]) bytes += plan.values[i].bytes;
    return bytes;
}

namespace {

std::int64_t alignedBytes(const ValueType& t) {
    const std::int64_t raw = numel(t.shape) * std::int64_t(dtypeSize(t.dtype));
    return (raw + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
}

/// Ops whose CPU kernels may write their output over an input of the output's shape: each output
/// element depends on the inputs' elements at the same index only, read before it is written
/// (the elementwise loops and the fused tiles; kernels_elementwise.cpp, kernels_fused.cpp).
bool writesOverInput(Op op) {
    const OpFamily f = opInfo(op).family;
    return f == OpFamily::Elementwise || f == OpFamily::Fused;
}

bool overlaps(const PlannedValue& a, const PlannedValue& b) { return a.defined <= b.lastUse && b.defined <= a.lastUse; }

/// Greedy by size, best-fit offsets; returns the arena's size.
std::int64_t assignOffsets(std::vector<PlannedValue>& values) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (values[i].placement == BufferPlacement::Arena) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (values[a].bytes != values[b].bytes) return values[a].bytes > values[b].bytes;
        return values[a].defined < values[b].defined;
    });
    std::vector<std::size_t> placed;  // sorted by offset
    std::int64_t arena = 0;
    for (std::size_t i : order) {
        PlannedValue& v = values[i];
        std::int64_t prevEnd = 0, best = -1, bestGap = std::numeric_limits<std::int64_t>::max();
        for (std::size_t j : placed) {
            const PlannedValue& p = values[j];
            if (!overlaps(v, p)) continue;
            const std::int64_t gap = p.offset - prevEnd;
            if (gap >= v.bytes && gap < bestGap) {
                best = prevEnd;
                bestGap = gap;
            }
            prevEnd = std::max(prevEnd, p.offset + p.bytes);
        }
        v.offset = best >= 0 ? best : prevEnd;
        arena = std::max(arena, v.offset + v.bytes);
        auto pos = std::upper_bound(placed.begin(), placed.end(), v.offset,
                                    [&](std::int64_t off, std::size_t j) { return off < values[j].offset; });
        placed.insert(pos, i);
    }
    return arena;
}

}  // namespace

MemoryPlan planMemory(const Graph& g, const std::vector<NodeId>& schedule, const std::function<const ValueType&(ValueRef)>& typeOf,
                      const std::vector<std::string>& donated) {
    MemoryPlan plan;
    plan.schedule = schedule;
    plan.firstValueOfNode.assign(std::size_t(g.idBound()), -1);
    std::vector<int> stepOf(std::size_t(g.idBound()), -1);
    std::vector<int> sourceLastRead(std::size_t(g.idBound()), -1);  // (every node's, used for sources)
    const int last = std::max(0, int(schedule.size()) - 1);
    // values, with their root and the last step that reads each one directly
    for (int s = 0; s < int(schedule.size()); ++s) {
        const NodeId id = schedule[std::size_t(s)];
        const Node& n = g.node(id);
        stepOf[std::size_t(id)] = s;
        for (const auto& in : n.inputs) {
            if (!g.contains(in.node)) throw GraphError("node '" + n.name + "' has an unconnected input");
            if (stepOf[std::size_t(in.node)] < 0)
                throw GraphError("node '" + n.name + "' reads '" + g.node(in.node).name + "', which is not scheduled before it");
            sourceLastRead[std::size_t(in.node)] = std::max(sourceLastRead[std::size_t(in.node)], s);
            if (const PlannedValue* p = plan.find(in)) {
                auto& pv = plan.values[std::size_t(p - plan.values.data())];
                pv.lastUse = std::max(pv.lastUse, s);
            }
        }
        if (isSource(n.op)) continue;
        plan.firstValueOfNode[std::size_t(id)] = int(plan.values.size());
        const int ports = n.numOutputs();
        for (int port = 0; port < ports; ++port) {
            PlannedValue v;
            v.value = ValueRef{id, port};
            const ValueType& t = typeOf(v.value);
            v.shape = t.shape;
            v.dtype = t.dtype;
            v.defined = v.lastUse = s;
            if (returnsView(n.op) && !n.inputs.empty()) {
                v.placement = BufferPlacement::View;
                const PlannedValue* src = plan.find(n.inputs[0]);
                v.aliasOf = src ? (src->placement == BufferPlacement::View ? src->aliasOf : src->value) : n.inputs[0];
            } else {
                v.bytes = alignedBytes(t);
            }
            plan.values.push_back(std::move(v));
        }
    }
    auto planned = [&](ValueRef v) -> PlannedValue* {
        const PlannedValue* p = plan.find(v);
        return p ? &plan.values[std::size_t(p - plan.values.data())] : nullptr;
    };
    auto indexOf = [&](const PlannedValue* p) { return std::size_t(p - plan.values.data()); };
    // Each buffer (a value that is not a view) is held until the last read of any value that
    // holds it, and is an output buffer when a graph output is held in it.
    std::vector<int> holdUntil(plan.values.size());
    std::vector<char> outputHeld(plan.values.size(), 0);
    for (std::size_t i = 0; i < plan.values.size(); ++i) holdUntil[i] = plan.values[i].lastUse;
    for (const auto& o : g.outputs()) {
        PlannedValue* p = planned(o.value);
        if (!p) continue;
        p->lastUse = last;
        if (p->placement == BufferPlacement::View) p = planned(p->aliasOf);
        if (!p) continue;
        holdUntil[indexOf(p)] = last;
        outputHeld[indexOf(p)] = 1;
    }
    for (const PlannedValue& v : plan.values)
        if (v.placement == BufferPlacement::View)
            if (PlannedValue* root = planned(v.aliasOf)) holdUntil[indexOf(root)] = std::max(holdUntil[indexOf(root)], v.lastUse);
    // the buffer a value is held in: through views and writes in place to a buffer value
    auto bufferOf = [&](ValueRef v) -> PlannedValue* {
        PlannedValue* p = planned(v);
        while (p && (p->placement == BufferPlacement::View || p->placement == BufferPlacement::InPlace)) p = planned(p->aliasOf);
        return p;
    };
    // donated inputs and bound parameters: held until the last read through any view; never one
    // a graph output reads as it is
    std::vector<char> donatable(std::size_t(g.idBound()), 0);
    for (const std::string& name : donated)
        if (auto id = g.findNode(name); id && (g.node(*id).op == Op::Input || g.node(*id).op == Op::Parameter) && stepOf[std::size_t(*id)] >= 0)
            donatable[std::size_t(*id)] = 1;
    for (const auto& o : g.outputs())
        if (g.contains(o.value.node)) donatable[std::size_t(o.value.node)] = 0;
    for (const PlannedValue& v : plan.values)
        if (v.placement == BufferPlacement::View && g.contains(v.aliasOf.node) && isSource(g.node(v.aliasOf.node).op)) {
            int& r = sourceLastRead[std::size_t(v.aliasOf.node)];
            r = std::max(r, v.lastUse);
            for (const auto& o : g.outputs())
                if (o.value == v.value) donatable[std::size_t(v.aliasOf.node)] = 0;
        }
    // a donated input written over: until when the values written over it are held, and whether
    // a graph output holds one; the donated input at the root of a value's writes in place
    std::vector<int> donatedHold(std::size_t(g.idBound()), -1);
    std::vector<char> donatedOutput(std::size_t(g.idBound()), 0);
    auto donatedRoot = [&](ValueRef v) -> ValueRef {
        const PlannedValue* p = planned(v);
        while (p && (p->placement == BufferPlacement::InPlace || p->placement == BufferPlacement::View)) {
            const PlannedValue* next = planned(p->aliasOf);
            if (!next) return donatedHold[std::size_t(p->aliasOf.node)] >= 0 ? p->aliasOf : ValueRef{};
            p = next;
        }
        return {};
    };
    // writes in place, in schedule order: a buffer that dies at a node takes the node's output
    // (or a donated input that the node reads last)
    for (int s = 0; s < int(schedule.size()); ++s) {
        const Node& n = g.node(schedule[std::size_t(s)]);
        if (n.numOutputs() != 1 || !writesOverInput(n.op)) continue;
        PlannedValue* out = planned(ValueRef{n.id, 0});
        if (!out || out->placement != BufferPlacement::Arena) continue;
        bool donatedInto = false;
        for (std::size_t k = 0; k < n.inputs.size() && !donatedInto; ++k) {
            const NodeId src = n.inputs[k].node;
            if (!donatable[std::size_t(src)] || sourceLastRead[std::size_t(src)] != s || typeOf(n.inputs[k]) != ValueType{out->shape, out->dtype})
                continue;
            bool readTwice = false;
            for (std::size_t j = 0; j < n.inputs.size(); ++j) {
                const PlannedValue* other = planned(n.inputs[j]);
                readTwice = readTwice || (j != k && (n.inputs[j].node == src || (other && other->placement == BufferPlacement::View &&
                                                                                    other->aliasOf.node == src)));
            }
            if (readTwice) continue;
            out->placement = BufferPlacement::InPlace;
            out->aliasOf = n.inputs[k];
            out->overwrites = n.inputs[k];
            donatable[std::size_t(src)] = 0;
            donatedHold[std::size_t(src)] = holdUntil[indexOf(out)];
            donatedOutput[std::size_t(src)] = outputHeld[indexOf(out)];
            donatedInto = true;
        }
        if (donatedInto) continue;
        for (std::size_t k = 0; k < n.inputs.size(); ++k) {
            const PlannedValue* in = planned(n.inputs[k]);
            if (!in || in->placement == BufferPlacement::View || in->shape != out->shape || in->dtype != out->dtype) continue;
            PlannedValue* buffer = bufferOf(n.inputs[k]);
            if (!buffer) {
                // a chain of writes over a donated input goes on while nothing else holds it
                const ValueRef root = donatedRoot(n.inputs[k]);
                if (root.node == kNoNode || donatedHold[std::size_t(root.node)] != s || donatedOutput[std::size_t(root.node)]) continue;
                bool shared = false;
                for (std::size_t j = 0; j < n.inputs.size(); ++j) shared = shared || (j != k && donatedRoot(n.inputs[j]) == root);
                if (shared) continue;
                out->placement = BufferPlacement::InPlace;
                out->aliasOf = root;
                out->overwrites = n.inputs[k];
                donatedHold[std::size_t(root.node)] = holdUntil[indexOf(out)];
                donatedOutput[std::size_t(root.node)] = outputHeld[indexOf(out)];
                break;
            }
            const std::size_t b = indexOf(buffer);
            if (outputHeld[b] || holdUntil[b] != s || buffer->bytes < out->bytes) continue;
            bool sharedWithAnotherInput = false;
            for (std::size_t j = 0; j < n.inputs.size(); ++j)
                sharedWithAnotherInput = sharedWithAnotherInput || (n.inputs[j] != n.inputs[k] && bufferOf(n.inputs[j]) == buffer);
            if (sharedWithAnotherInput) continue;
            out->placement = BufferPlacement::InPlace;
            out->aliasOf = buffer->value;
            out->overwrites = n.inputs[k];
            holdUntil[b] = std::max(holdUntil[b], holdUntil[indexOf(out)]);
            outputHeld[b] = char(outputHeld[b] || outputHeld[indexOf(out)]);
            break;
        }
    }
    // a view names the buffer value that holds what it views (of a value written in place: the
    // buffer it was written into)
    for (PlannedValue& v : plan.values)
        if (v.placement == BufferPlacement::View)
            if (const PlannedValue* root = bufferOf(v.aliasOf)) v.aliasOf = root->value;
    for (std::size_t i = 0; i < plan.values.size(); ++i) {
        PlannedValue& v = plan.values[i];
        if (v.placement != BufferPlacement::Arena) continue;
        v.lastUse = holdUntil[i];
        if (outputHeld[i]) v.placement = BufferPlacement::Own;
    }

    for (const PlannedValue& v : plan.values) {
        if (v.placement == BufferPlacement::View) continue;
        plan.noReuseBytes += v.bytes;
        if (v.placement == BufferPlacement::Own) plan.ownBytes += v.bytes;
    }
    for (std::int64_t live : plan.liveBytesByStep()) plan.lowerBoundBytes = std::max(plan.lowerBoundBytes, live);
    plan.arenaBytes = assignOffsets(plan.values);
    return plan;
}

namespace {

using TypeTable = std::vector<std::vector<ValueType>>;

/// Infers every scheduled node's output types from the sources' types; `sourceType` gives them.
TypeTable inferScheduleTypes(const Graph& g, const std::vector<NodeId>& schedule, const std::function<ValueType(const Node&)>& sourceType) {
    TypeTable types(std::size_t(g.idBound()));
    for (NodeId id : schedule) {
        const Node& n = g.node(id);
        if (isSource(n.op)) {
            types[std::size_t(id)] = {sourceType(n)};
            continue;
        }
        std::vector<ValueType> in;
        in.reserve(n.inputs.size());
        for (const auto& v : n.inputs) {
            if (!g.contains(v.node) || std::size_t(v.port) >= types[std::size_t(v.node)].size())
                throw GraphError("node '" + n.name + "' has an input that is not computed before it");
            in.push_back(types[std::size_t(v.node)][std::size_t(v.port)]);
        }
        types[std::size_t(id)] = inferNodeTypes(n, in);
        if (int(types[std::size_t(id)].size()) < n.numOutputs())
            throw GraphError("node '" + n.name + "': shape inference gave fewer outputs than the node has");
    }
    return types;
}

MemoryPlan planWithTypes(const Graph& g, const std::vector<NodeId>& schedule, const TypeTable& types, const std::vector<std::string>& donated) {
    return planMemory(
        g, schedule, [&](ValueRef v) -> const ValueType& { return types[std::size_t(v.node)].at(std::size_t(v.port)); }, donated);
}

ValueType valueTypeOf(const Node& n) {
    if (!n.value.defined()) throw GraphError("node '" + n.name + "' has no value");
    return {n.value.shape(), n.value.dtype()};
}

/// The plan over `topo`, or over the greedy reordering of it when that plans a lower peak.
MemoryPlan planInOrder(const Graph& g, const std::vector<NodeId>& topo, const TypeTable& types, ScheduleOrder order,
                       const std::vector<std::string>& donated) {
    MemoryPlan plan = planWithTypes(g, topo, types, donated);
    if (order == ScheduleOrder::MinPeak) {
        const std::vector<NodeId> greedy =
            lowPeakOrder(g, topo, [&](ValueRef v) { return alignedBytes(types[std::size_t(v.node)].at(std::size_t(v.port))); });
        MemoryPlan low = planWithTypes(g, greedy, types, donated);
        if (low.plannedPeakBytes() < plan.plannedPeakBytes()) plan = std::move(low);
    }
    return plan;
}

}  // namespace

MemoryPlan planMemory(const Graph& g, const std::map<std::string, Shape>& inputShapes, ScheduleOrder order,
                      const std::vector<std::string>& donated) {
    const std::vector<NodeId> topo = g.liveTopoOrder();
    const TypeTable types = inferScheduleTypes(g, topo, [&](const Node& n) -> ValueType {
        if (n.op != Op::Input) return valueTypeOf(n);
        auto it = inputShapes.find(n.name);
        return {it != inputShapes.end() ? it->second : n.declaredShape, n.declaredDType};
    });
    return planInOrder(g, topo, types, order, donated);
}

MemoryPlan planMemoryForBindings(const Graph& g, const std::vector<NodeId>& schedule, const Bindings& bindings, ScheduleOrder order,
                                  const std::vector<std::string>& donated) {
    const TypeTable types = inferScheduleTypes(g, schedule, [&](const Node& n) -> ValueType {
        if (n.op != Op::Input) {
            const Tensor& t = sourceValue(n, bindings);
            return {t.shape(), t.dtype()};
        }
        auto it = bindings.find(n.name);
        if (it == bindings.end()) throw Error("graph input '" + n.name + "' has no binding");
        return {it->second.shape(), it->second.dtype()};
    });
    return planInOrder(g, schedule, types, order, donated);
}

}  // namespace adj
