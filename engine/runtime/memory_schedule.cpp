#include "runtime/memory_schedule.h"

#include <algorithm>
#include <limits>

#include "base/errors.h"

namespace adj {

std::string_view scheduleOrderName(ScheduleOrder order) { return order == ScheduleOrder::MinPeak ? "min-peak" : "topo"; }

std::optional<ScheduleOrder> scheduleOrderFromName(std::string_view name) {
    if (name == "topo") return ScheduleOrder::Topological;
    if (name == "min-peak") return ScheduleOrder::MinPeak;
    return std::nullopt;
}

std::vector<NodeId> lowPeakOrder(const Graph& g, const std::vector<NodeId>& topo, const std::function<std::int64_t(ValueRef)>& bytesOf) {
    const std::size_t bound = std::size_t(g.idBound());
    std::vector<int> rank(bound, -1), firstValue(bound, -1);
    int values = 0;
    for (std::size_t i = 0; i < topo.size(); ++i) {
        const NodeId id = topo[i];
        rank[std::size_t(id)] = int(i);
        firstValue[std::size_t(id)] = values;
        values += std::max(1, g.node(id).numOutputs());
    }
    auto indexOf = [&](ValueRef v) { return std::size_t(firstValue[std::size_t(v.node)] + v.port); };
    // every value's buffer (the value itself, or the root of the views it is made by), -1 for
    // sources and what views them; bytes by buffer
    std::vector<int> bufferOf(std::size_t(values), -1);
    std::vector<std::int64_t> bytes(std::size_t(values), 0);
    for (NodeId id : topo) {
        const Node& n = g.node(id);
        if (isSource(n.op)) continue;
        for (int p = 0; p < std::max(1, n.numOutputs()); ++p) {
            const std::size_t i = indexOf(ValueRef{id, p});
            if (returnsView(n.op) && !n.inputs.empty()) {
                const ValueRef in = n.inputs[0];
                bufferOf[i] = rank[std::size_t(in.node)] < 0 ? -1 : bufferOf[indexOf(in)];
            } else {
                bufferOf[i] = int(i);
                bytes[i] = bytesOf(ValueRef{id, p});
            }
        }
    }
    // reads still to come of each buffer (through any value it holds); graph outputs never die
    std::vector<int> pending(std::size_t(values), 0);
    std::vector<char> keep(std::size_t(values), 0);
    std::vector<int> waiting(bound, 0);  // by node: inputs from nodes not scheduled yet
    for (NodeId id : topo)
        for (const auto& in : g.node(id).inputs) {
            if (rank[std::size_t(in.node)] < 0) throw GraphError("node '" + g.node(id).name + "' reads a node outside the schedule");
            if (const int b = bufferOf[indexOf(in)]; b >= 0) ++pending[std::size_t(b)];
            if (!isSource(g.node(in.node).op)) ++waiting[std::size_t(id)];
        }
    for (const auto& o : g.outputs())
        if (o.value.node >= 0 && std::size_t(o.value.node) < bound && rank[std::size_t(o.value.node)] >= 0)
            if (const int b = bufferOf[indexOf(o.value)]; b >= 0) keep[std::size_t(b)] = 1;

    std::vector<NodeId> order, ready;
    order.reserve(topo.size());
    for (NodeId id : topo) {
        if (isSource(g.node(id).op)) order.push_back(id);
        else if (waiting[std::size_t(id)] == 0) ready.push_back(id);
    }
    std::vector<int> readsHere(std::size_t(values), 0);
    auto added = [&](NodeId id) {
        const Node& n = g.node(id);
        std::int64_t delta = 0;
        if (!returnsView(n.op))
            for (int p = 0; p < std::max(1, n.numOutputs()); ++p) delta += bytes[indexOf(ValueRef{id, p})];
        for (const auto& in : n.inputs)
            if (const int b = bufferOf[indexOf(in)]; b >= 0) ++readsHere[std::size_t(b)];
        for (const auto& in : n.inputs) {
            const int b = bufferOf[indexOf(in)];
            if (b < 0 || readsHere[std::size_t(b)] == 0) continue;
            if (!keep[std::size_t(b)] && readsHere[std::size_t(b)] == pending[std::size_t(b)]) delta -= bytes[std::size_t(b)];
            readsHere[std::size_t(b)] = 0;  // counted once
        }
        return delta;
    };
    while (!ready.empty()) {
        std::size_t best = 0;
        std::int64_t bestDelta = std::numeric_limits<std::int64_t>::max();
        for (std::size_t i = 0; i < ready.size(); ++i) {
            const std::int64_t d = added(ready[i]);
            if (d < bestDelta || (d == bestDelta && rank[std::size_t(ready[i])] < rank[std::size_t(ready[best])])) {
                best = i;
                bestDelta = d;
            }
        }
        const NodeId id = ready[best];
        ready[best] = ready.back();
        ready.pop_back();
        order.push_back(id);
        for (const auto& in : g.node(id).inputs)
            if (const int b = bufferOf[indexOf(in)]; b >= 0) --pending[std::size_t(b)];
        for (const Use& u : g.users(id))
            if (rank[std::size_t(u.user)] >= 0 && --waiting[std::size_t(u.user)] == 0) ready.push_back(u.user);
    }
    if (order.size() != topo.size()) throw GraphError("the schedule's nodes do not form a topological order");
    return order;
}

}  // namespace adj
