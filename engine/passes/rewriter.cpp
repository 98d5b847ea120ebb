#include "passes/rewriter.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <stdexcept>

#include "ir/group_tree.h"
#include "ir/printer.h"

namespace adj {

CostSummary graphCostSummary(const Graph& g) {
    CostSummary s;
    for (NodeId id : g.liveTopoOrder()) {
        const Cost c = nodeCost(g, id);
        s.flops += c.flops;
        s.bytes += c.bytes();
        if (isKernelOp(g.node(id).op)) ++s.kernels;
    }
    return s;
}

namespace {

/// A topological order in O(nodes + edges) (Kahn's algorithm with a FIFO queue; Graph::topoOrder
/// breaks ties by creation order, which a worklist does not need).
std::vector<NodeId> fastTopoOrder(const Graph& g) {
    std::vector<int> pending(std::size_t(g.idBound()), 0);
    std::vector<NodeId> order;
    order.reserve(g.nodeCount());
    for (NodeId id : g.nodeIds()) {
        for (const auto& v : g.node(id).inputs)
            if (g.contains(v.node)) ++pending[std::size_t(id)];
        if (pending[std::size_t(id)] == 0) order.push_back(id);
    }
    for (std::size_t i = 0; i < order.size(); ++i)
        for (const auto& u : g.users(order[i]))
            if (--pending[std::size_t(u.user)] == 0) order.push_back(u.user);
    return order;  // nodes on a cycle (the verifier reports those) are left out
}

}  // namespace

// ---- RuleSet ----

RuleSet::RuleSet(std::vector<RewriteRule> rules) : rules_(std::move(rules)) { reindex(); }

RuleSet& RuleSet::add(RewriteRule rule) {
    rules_.push_back(std::move(rule));
    reindex();
    return *this;
}

RuleSet& RuleSet::operator+=(const RuleSet& other) {
    rules_.insert(rules_.end(), other.rules_.begin(), other.rules_.end());
    reindex();
    return *this;
}

void RuleSet::reindex() {
    for (auto& v : byOp_) v.clear();
    for (std::size_t i = 0; i < rules_.size(); ++i)
        for (Op op : rules_[i].roots) byOp_[std::size_t(op)].push_back(i);
    for (std::size_t i = 0; i < rules_.size(); ++i)
        if (rules_[i].roots.empty())
            for (auto& v : byOp_) v.push_back(i);
}

// ---- Rewriter ----

Rewriter::Rewriter(Graph& graph, std::string passName, RewriteTrace* trace)
    : g_(graph), b_(graph), pass_(std::move(passName)), trace_(trace) {
    ensureSize();
    for (const auto& o : g_.outputs())
        if (g_.contains(o.value.node)) ++outputUses_[std::size_t(o.value.node)];
    if (!trace_) return;  // costs are for the trace only
    for (NodeId id : g_.nodeIds()) {
        const CostSummary c = costOf(id);
        cost_.flops += c.flops;
        cost_.bytes += c.bytes;
        cost_.kernels += c.kernels;
    }
}

void Rewriter::ensureSize() {
    const auto n = std::size_t(g_.idBound());
    if (queued_.size() < n) {
        queued_.resize(n, 0);
        outputUses_.resize(n, 0);
    }
}

CostSummary Rewriter::costOf(NodeId id) const {
    CostSummary s;
    if (!trace_) return s;
    const Node& n = g_.node(id);
    const Cost c = nodeCost(g_, id);
    s.flops = c.flops;
    s.bytes = c.bytes();
    s.kernels = isKernelOp(n.op) ? 1 : 0;
    return s;
}

bool Rewriter::isGraphOutput(NodeId id) const {
    return std::size_t(id) < outputUses_.size() && outputUses_[std::size_t(id)] > 0;
}

std::size_t Rewriter::useCount(NodeId id) const {
    return g_.users(id).size() + (isGraphOutput(id) ? std::size_t(outputUses_[std::size_t(id)]) : 0);
}

void Rewriter::addFusionNote(const std::string& producer, const std::string& consumer, const std::string& reason) {
    if (trace_) trace_->fusionNotes.push_back({producer, consumer, reason});
}

void Rewriter::push(NodeId id) {
    ensureSize();
    if (!g_.contains(id) || queued_[std::size_t(id)]) return;
    queued_[std::size_t(id)] = 1;
    queue_.push_back(id);
}

std::int64_t Rewriter::run(const RuleSet& rules, bool consumersFirst) {
    const std::int64_t before = applications_;
    std::vector<NodeId> order = fastTopoOrder(g_);
    if (consumersFirst) std::reverse(order.begin(), order.end());
    for (NodeId id : order) push(id);
    while (queueHead_ < queue_.size()) {
        const NodeId id = queue_[queueHead_++];
        if (queueHead_ > 4096 && queueHead_ * 2 > queue_.size()) {  // keep the queue compact
            queue_.erase(queue_.begin(), queue_.begin() + std::ptrdiff_t(queueHead_));
            queueHead_ = 0;
        }
        queued_[std::size_t(id)] = 0;
        if (!g_.contains(id)) continue;
        ++visits_;
        const Op op = g_.node(id).op;
        for (std::size_t ri : rules.rulesFor(op)) {
            const RewriteRule& rule = rules.rule(ri);
            const NodeId mark = g_.idBound();
            std::optional<std::vector<ValueRef>> result = rule.apply(*this, id);
            if (!result) {
                extra_.clear();
                // remove whatever the rule built and left unused
                for (NodeId k = g_.idBound(); k-- > mark;)
                    if (g_.contains(k) && g_.users(k).empty()) g_.removeNode(k);
                continue;
            }
            commit(rule.name, id, *result, mark);
            break;
        }
    }
    queue_.clear();
    queueHead_ = 0;
    return applications_ - before;
}

TraceNode Rewriter::traceNode(NodeId id) const {
    const Node& n = g_.node(id);
    TraceNode t;
    t.name = n.name;
    t.op = n.op;
    for (const auto& v : n.inputs) t.inputs.push_back(g_.valueName(v));
    t.attrs = n.attrs;
    if (!n.outputs.empty()) t.shape = n.outputs[0].shape;
    if (auto it = n.meta.find(kGroupKey); it != n.meta.end()) t.group = it->second;
    if (auto it = n.meta.find(kGroupCollapsedKey); it != n.meta.end()) t.groupCollapsed = it->second;
    if ((n.op == Op::Constant || n.op == Op::Parameter) && n.value.defined()) {
        if (n.value.numel() <= kTraceMaxValues) t.values = n.value.toVector();
        else t.valuesOmitted = true;
    }
    return t;
}

void Rewriter::rewire(RewriteStep& step, ValueRef from, ValueRef to, const std::string& rule) {
    if (to == from || to.node == kNoNode || !g_.contains(from.node)) return;
    if (!(g_.type(to) == g_.type(from)))
        throw std::logic_error("rewrite rule '" + rule + "' replaced '" + g_.valueName(from) + "' " + shapeToString(g_.type(from).shape) +
                               " by '" + g_.valueName(to) + "' " + shapeToString(g_.type(to).shape));
    if (trace_) step.rewired.emplace_back(g_.valueName(from), g_.valueName(to));
    for (const auto& u : g_.users(from.node))
        if (g_.node(u.user).inputs[std::size_t(u.index)] == from) push(u.user);
    if (isGraphOutput(from.node)) {
        int moved = 0;
        for (const auto& o : g_.outputs())
            if (o.value == from) ++moved;
        outputUses_[std::size_t(from.node)] -= moved;
        outputUses_[std::size_t(to.node)] += moved;
    }
    g_.replaceAllUses(from, to);
}

void Rewriter::replace(const std::string& rule, NodeId root, const std::vector<ValueRef>& values, NodeId mark) {
    commit(rule, root, values, mark);
}

void Rewriter::eraseCascade(NodeId start, std::vector<std::string>& removed, CostSummary& delta) {
    std::vector<NodeId> stack{start};
    while (!stack.empty()) {
        const NodeId id = stack.back();
        stack.pop_back();
        if (!g_.contains(id) || !g_.users(id).empty() || isGraphOutput(id)) continue;
        const Node& n = g_.node(id);
        if (n.op == Op::Input) continue;  // the graph's interface; a parameter nothing reads goes
        const CostSummary c = costOf(id);
        delta.flops -= c.flops;
        delta.bytes -= c.bytes;
        delta.kernels -= c.kernels;
        std::vector<NodeId> ins;
        for (const auto& v : n.inputs)
            if (g_.contains(v.node)) ins.push_back(v.node);
        removed.push_back(n.name);
        g_.removeNode(id);
        for (NodeId in : ins) {
            stack.push_back(in);
            push(in);
        }
    }
}

RewriteStep Rewriter::openStep(const std::string& rule, NodeId root, NodeId mark, CostSummary& delta) {
    ensureSize();
    RewriteStep step;
    step.pass = pass_;
    step.rule = rule;
    step.root = g_.contains(root) ? g_.node(root).name : std::string();
    step.before = cost_;
    for (NodeId k = mark; k < g_.idBound(); ++k) {
        if (!g_.contains(k)) continue;
        const CostSummary c = costOf(k);
        delta.flops += c.flops;
        delta.bytes += c.bytes;
        delta.kernels += c.kernels;
        if (trace_) step.added.push_back(traceNode(k));
    }
    return step;
}

void Rewriter::closeStep(RewriteStep&& step, const CostSummary& delta) {
    cost_.flops += delta.flops;
    cost_.bytes += delta.bytes;
    cost_.kernels += delta.kernels;
    ++applications_;
    if (!trace_) return;
    step.after = cost_;
    if (g_.nodeCount() <= kTraceMaxGraphTextNodes) step.graphText = printGraph(g_);
    trace_->steps.push_back(std::move(step));
}

void Rewriter::inheritGroups(NodeId root, NodeId mark) {
    if (mark >= g_.idBound()) return;
    // the groups of what is replaced: the root and the values replaced with it
    std::vector<NodeId> replaced;
    if (g_.contains(root)) replaced.push_back(root);
    for (const auto& [from, to] : extra_)
        if (g_.contains(from.node)) replaced.push_back(from.node);
    if (replaced.empty()) return;
    std::string group = nodeGroup(g_.node(replaced.front()));
    for (std::size_t i = 1; i < replaced.size() && !group.empty(); ++i) group = commonGroupPath(group, nodeGroup(g_.node(replaced[i])));
    if (group.empty()) return;
    std::vector<bool> levels = nodeCollapsedLevels(g_.node(replaced.front()));
    levels.resize(groupPathComponents(group).size());
    for (NodeId k = mark; k < g_.idBound(); ++k) {
        if (!g_.contains(k)) continue;
        Node& n = g_.node(k);
        if (n.meta.count(kGroupKey)) continue;
        n.meta[kGroupKey] = group;
        setNodeCollapsedLevels(n, levels);
    }
}

void Rewriter::commit(const std::string& rule, NodeId root, const std::vector<ValueRef>& values, NodeId mark) {
    inheritGroups(root, mark);
    CostSummary delta;
    RewriteStep step = openStep(rule, root, mark, delta);
    std::vector<NodeId> replaced;
    if (g_.contains(root)) {
        const Node& r = g_.node(root);
        if (values.size() > r.outputs.size())
            throw std::logic_error("rewrite rule '" + rule + "' returned " + std::to_string(values.size()) + " values for node '" + r.name + "'");
        for (std::size_t p = 0; p < values.size(); ++p) rewire(step, ValueRef{root, int(p)}, values[p], rule);
        replaced.push_back(root);
    }
    const auto extra = std::move(extra_);
    extra_.clear();
    for (const auto& [from, to] : extra) {
        rewire(step, from, to, rule);
        replaced.push_back(from.node);
    }
    for (NodeId k = mark; k < g_.idBound(); ++k) {
        if (!g_.contains(k)) continue;
        push(k);
        for (const auto& u : g_.users(k)) push(u.user);
    }
    std::vector<std::string> removed;
    for (NodeId r : replaced) eraseCascade(r, removed, delta);
    for (NodeId k = g_.idBound(); k-- > mark;)  // new nodes the replacement did not use
        if (g_.contains(k)) eraseCascade(k, removed, delta);
    step.removed = std::move(removed);
    closeStep(std::move(step), delta);
}

void Rewriter::retarget(const std::string& rule, NodeId root, const std::vector<InputRetarget>& changes, NodeId mark) {
    inheritGroups(root, mark);
    CostSummary delta;
    RewriteStep step = openStep(rule, root, mark, delta);
    for (NodeId k = mark; k < g_.idBound(); ++k)
        if (g_.contains(k)) push(k);
    for (const InputRetarget& change : changes) {
        g_.setInput(change.user, change.input, change.value);
        push(change.user);
        if (trace_) step.retargeted.push_back({g_.node(change.user).name, change.input, g_.valueName(change.value)});
    }
    closeStep(std::move(step), delta);
}

void Rewriter::removeDead(const std::string& rule, const std::vector<NodeId>& nodes) {
    CostSummary delta;
    RewriteStep step = openStep(rule, kNoNode, g_.idBound(), delta);  // (adds nothing)
    std::vector<std::string> removed;
    for (NodeId id : nodes) eraseCascade(id, removed, delta);
    if (removed.empty()) return;
    step.root = removed.front();
    step.removed = std::move(removed);
    closeStep(std::move(step), delta);
}

// ---- JSON ----

namespace {

nlohmann::json costJson(const CostSummary& c) {
    return {{"flops", c.flops}, {"bytes", c.bytes}, {"kernels", c.kernels}, {"intensity", c.intensity()}};
}

nlohmann::json attrJson(const AttrValue& v) {
    switch (v.index()) {
        case 0: return std::get<0>(v);
        case 1: return std::get<1>(v);
        case 2: return std::get<2>(v);
        case 3: return std::get<3>(v);
        default: return std::get<4>(v);
    }
}

}  // namespace

std::string RewriteTrace::toJson(bool pretty) const {
    nlohmann::json j;
    j["format"] = "adjoint-rewrite-trace";
    j["version"] = 1;
    j["initial_graph"] = initialGraphJson.empty() ? nlohmann::json(nullptr) : nlohmann::json::parse(initialGraphJson);
    j["initial_text"] = initialGraphText;
    nlohmann::json steps = nlohmann::json::array();
    for (std::size_t i = 0; i < this->steps.size(); ++i) {
        const RewriteStep& s = this->steps[i];
        nlohmann::json added = nlohmann::json::array();
        for (const auto& a : s.added) {
            nlohmann::json n{{"name", a.name}, {"op", std::string(opName(a.op))}, {"inputs", a.inputs}, {"shape", a.shape}};
            nlohmann::json attrs = nlohmann::json::object();
            for (const auto& [k, v] : a.attrs.map()) attrs[k] = attrJson(v);
            n["attrs"] = attrs;
            if (!a.group.empty()) n["group"] = a.group;
            if (a.op == Op::Constant || a.op == Op::Parameter) {
                if (a.valuesOmitted) n["values_omitted"] = true;
                else n["values"] = a.values;
            }
            added.push_back(std::move(n));
        }
        nlohmann::json rewired = nlohmann::json::array();
        for (const auto& [from, to] : s.rewired) rewired.push_back({{"from", from}, {"to", to}});
        nlohmann::json step{{"index", i},          {"pass", s.pass},       {"rule", s.rule},
                            {"root", s.root},      {"added", added},       {"rewired", rewired},
                            {"removed", s.removed}, {"cost_before", costJson(s.before)}, {"cost_after", costJson(s.after)}};
        if (!s.retargeted.empty()) {
            nlohmann::json retargeted = nlohmann::json::array();
            for (const auto& r : s.retargeted) retargeted.push_back({{"user", r.user}, {"input", r.input}, {"value", r.value}});
            step["retargeted"] = std::move(retargeted);
        }
        if (!s.graphText.empty()) step["graph_text"] = s.graphText;
        steps.push_back(std::move(step));
    }
    j["steps"] = std::move(steps);
    nlohmann::json passesJ = nlohmann::json::array();
    for (const auto& p : passes)
        passesJ.push_back({{"pass", p.pass}, {"visits", p.visits}, {"applications", p.applications},
                           {"nodes_before", p.nodesBefore}, {"nodes_after", p.nodesAfter}, {"ms", p.ms}});
    j["passes"] = std::move(passesJ);
    nlohmann::json notes = nlohmann::json::array();
    for (const auto& n : fusionNotes) notes.push_back({{"producer", n.producer}, {"consumer", n.consumer}, {"reason", n.reason}});
    j["fusion_notes"] = std::move(notes);
    return j.dump(pretty ? 1 : -1);
}

}  // namespace adj
