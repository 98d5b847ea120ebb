#pragma once
// The Rewriter: rules are data, a worklist driver applies them to a fixed point, and every application is recorded in a RewriteTrace that a GUI can replay.
//
// A RewriteRule names the ops it is rooted at and holds a function that, given the rewriter and a
// root node, either returns nothing (no match; it must leave the graph as it found it, apart from
// nodes it built and left unused, which the driver removes) or returns one replacement value per
// output of the root, built through rewriter.builder(). The driver then points every use of the
// root's outputs at the replacements, removes what became dead, and pushes only the nodes whose
// surroundings changed (the new nodes, their users, the inputs of removed nodes) back on the
// worklist: no rescans of the whole graph.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cost/cost_model.h"
#include "ir/builder.h"
#include "ir/graph.h"

namespace adj {

/// What a graph costs as a whole: the figures a rewrite step changes.
struct CostSummary {
    double flops = 0;
    double bytes = 0;
    std::int64_t kernels = 0;  // nodes that run a kernel: not sources, not views
    double intensity() const { return bytes > 0 ? flops / bytes : 0.0; }
};

/// Cost of the nodes the outputs need.
CostSummary graphCostSummary(const Graph& graph);

/// A node a rewrite step added, with enough to rebuild it: inputs by value name ("n" or "n:k").
struct TraceNode {
    std::string name;
    Op op = Op::Input;
    std::vector<std::string> inputs;
    Attributes attrs;
    Shape shape;                 // shape of output 0
    std::string group;           // meta "group" and "group_collapsed" (ir/group_tree.h), "" when none
    std::string groupCollapsed;
    std::vector<float> values;   // Constant and Parameter values when small (see valuesOmitted)
    bool valuesOmitted = false;  // a tensor larger than kTraceMaxValues: rebuild by rerunning the pass
};

/// One input of one node, set to another value (not every use of a value, as `rewired` does):
/// the recomputations of passes/checkpointing.h take over the backward pass's reads only.
struct RetargetedInput {
    std::string user;
    int input = 0;
    std::string value;
};

/// One application of one rule.
struct RewriteStep {
    std::string pass;
    std::string rule;
    std::string root;
    std::vector<TraceNode> added;                               // in creation order
    std::vector<std::pair<std::string, std::string>> rewired;  // every use of first now reads second
    std::vector<RetargetedInput> retargeted;                    // after rewired: single inputs set
    std::vector<std::string> removed;                           // in removal order
    CostSummary before, after;
    /// The printed graph after the step, when the graph has at most kTraceMaxGraphTextNodes nodes.
    std::string graphText;
};

/// Why two neighbouring elementwise ops were not fused.
struct FusionNote {
    std::string producer;
    std::string consumer;
    std::string reason;
};

struct PassReport {
    std::string pass;
    std::int64_t visits = 0;
    std::int64_t applications = 0;
    std::size_t nodesBefore = 0, nodesAfter = 0;
    double ms = 0;
};

inline constexpr std::int64_t kTraceMaxValues = 4096;
inline constexpr std::size_t kTraceMaxGraphTextNodes = 400;

/// The record of a pipeline run; docs/REWRITES.md describes its JSON form.
struct RewriteTrace {
    std::string initialGraphJson;  // the graph before the first step (adjoint-graph JSON)
    std::string initialGraphText;  // printed, when small
    std::vector<RewriteStep> steps;
    std::vector<PassReport> passes;
    std::vector<FusionNote> fusionNotes;
    /// The whole trace as JSON text.
    std::string toJson(bool pretty = true) const;
};

class Rewriter;

/// For Rewriter::retarget: input `input` of node `user` becomes `value`.
struct InputRetarget {
    NodeId user = kNoNode;
    int input = 0;
    ValueRef value;
};

/// What a rule returns: nothing (no match) or one replacement value per output of the root.
/// passes/matchers.h holds the vocabulary rules are written in.
using RewriteResult = std::optional<std::vector<ValueRef>>;

struct RewriteRule {
    std::string name;
    /// Root ops; empty: every op.
    std::vector<Op> roots;
    std::function<RewriteResult(Rewriter&, NodeId)> apply;
};

/// Rules indexed by root op; sets combine with +.
class RuleSet {
public:
    RuleSet() = default;
    explicit RuleSet(std::vector<RewriteRule> rules);
    RuleSet& add(RewriteRule rule);
    RuleSet& operator+=(const RuleSet& other);
    friend RuleSet operator+(RuleSet a, const RuleSet& b) { return a += b; }
    /// The rules to try on a node of `op`, those rooted at it first, then the any-op rules.
    const std::vector<std::size_t>& rulesFor(Op op) const { return byOp_[std::size_t(op)]; }
    const RewriteRule& rule(std::size_t i) const { return rules_[i]; }
    std::size_t size() const { return rules_.size(); }

private:
    void reindex();
    std::vector<RewriteRule> rules_;
    std::vector<std::vector<std::size_t>> byOp_ = std::vector<std::vector<std::size_t>>(std::size_t(kOpCount));
};

class Rewriter {
public:
    /// Types must be on the graph (run the verifier first). `trace` may be null.
    Rewriter(Graph& graph, std::string passName, RewriteTrace* trace = nullptr);
    Graph& graph() { return g_; }
    const Graph& graph() const { return g_; }
    GraphBuilder& builder() { return b_; }

    /// Applies the rules until none matches anywhere; returns the number of applications. The
    /// worklist starts in topological order, or with consumers first (`consumersFirst`: fusion
    /// roots a group at its last op and grows it backwards in one step).
    std::int64_t run(const RuleSet& rules, bool consumersFirst = false);
    /// Records and applies a replacement computed outside run() (whole-graph passes use it):
    /// nodes created since `mark` (a graph().idBound() taken before building) are the added ones.
    void replace(const std::string& rule, NodeId root, const std::vector<ValueRef>& values, NodeId mark);
    /// Records and applies a change of single inputs (one node's input, not every use of a value,
    /// as replace does): nodes created since `mark` are the added ones, then each change's input
    /// reads its value. Nothing is removed.
    void retarget(const std::string& rule, NodeId root, const std::vector<InputRetarget>& changes, NodeId mark);
    /// Removes a node that has no users and is no graph output, and whatever becomes dead
    /// behind it (graph inputs and parameters stay), recording one step.
    void removeDead(const std::string& rule, const std::vector<NodeId>& nodes);

    /// For rules that replace values besides the root's (merging siblings): applied with the
    /// root's replacement when the rule returns one (an empty vector: the root itself stays).
    void alsoReplace(ValueRef from, ValueRef to) { extra_.emplace_back(from, to); }

    /// True when a graph output reads some output of the node.
    bool isGraphOutput(NodeId id) const;
    /// Number of uses (node inputs and graph outputs) of the node's outputs.
    std::size_t useCount(NodeId id) const;
    void addFusionNote(const std::string& producer, const std::string& consumer, const std::string& reason);

    std::int64_t visits() const { return visits_; }
    std::int64_t applications() const { return applications_; }
    /// Running cost of all nodes present; kept only when there is a trace.
    const CostSummary& cost() const { return cost_; }

private:
    void push(NodeId id);
    /// A step of this pass and rule at `root` (its name, the cost before), with the nodes created
    /// since `mark` as added ones; their cost goes into `delta`.
    RewriteStep openStep(const std::string& rule, NodeId root, NodeId mark, CostSummary& delta);
    /// Applies `delta` to the running cost, counts the application and records the step.
    void closeStep(RewriteStep&& step, const CostSummary& delta);
    void commit(const std::string& rule, NodeId root, const std::vector<ValueRef>& values, NodeId mark);
    /// New nodes (ids from `mark`) without a group join the innermost group of what they replace.
    void inheritGroups(NodeId root, NodeId mark);
    void eraseCascade(NodeId start, std::vector<std::string>& removed, CostSummary& delta);
    void ensureSize();
    CostSummary costOf(NodeId id) const;
    TraceNode traceNode(NodeId id) const;

    Graph& g_;
    GraphBuilder b_;
    std::string pass_;
    RewriteTrace* trace_;
    void rewire(RewriteStep& step, ValueRef from, ValueRef to, const std::string& rule);
    std::vector<std::pair<ValueRef, ValueRef>> extra_;
    std::vector<NodeId> queue_;  // a stack of pending nodes
    std::size_t queueHead_ = 0;
    std::vector<char> queued_;
    std::vector<int> outputUses_;
    std::int64_t visits_ = 0;
    std::int64_t applications_ = 0;
    CostSummary cost_;
};

}  // namespace adj
