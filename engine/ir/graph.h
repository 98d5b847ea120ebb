#pragma once
// The graph IR: nodes with an op, attributes and inputs; graph inputs, parameters and constants
// are source nodes; named outputs point at node values. Node ids are stable across edits (removed
// nodes leave a hole), so that undo commands, rewrite traces and autodiff maps can hold ids.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/attributes.h"
#include "ir/op.h"
#include "tensor/tensor.h"

namespace adj {

using NodeId = std::int32_t;
inline constexpr NodeId kNoNode = -1;

/// One output of one node.
struct ValueRef {
    NodeId node = kNoNode;
    int port = 0;
    bool operator==(const ValueRef& o) const { return node == o.node && port == o.port; }
    bool operator!=(const ValueRef& o) const { return !(*this == o); }
    bool operator<(const ValueRef& o) const { return node != o.node ? node < o.node : port < o.port; }
};

/// Shape and dtype of a value, as shape inference leaves them.
struct ValueType {
    Shape shape;
    DType dtype = DType::F32;
    bool operator==(const ValueType& o) const { return shape == o.shape && dtype == o.dtype; }
};

struct Node {
    NodeId id = kNoNode;
    Op op = Op::Input;
    std::string name;
    std::vector<ValueRef> inputs;
    Attributes attrs;
    /// Inferred output types; empty until shape inference ran (or when it failed here).
    std::vector<ValueType> outputs;
    /// Parameter and Constant values.
    Tensor value;
    /// Input nodes: declared shape, element type and symbolic names of dynamic dimensions ("" when fixed).
    Shape declaredShape;
    DType declaredDType = DType::F32;
    std::vector<std::string> dimNames;
    /// Free-form key/value pairs kept through save and load (the GUI stores positions here).
    std::map<std::string, std::string> meta;

    int numOutputs() const;
};

struct GraphOutput {
    std::string name;
    ValueRef value;
};

/// A use of a value: node `user` reads it as its input number `index`.
struct Use {
    NodeId user;
    int index;
};

class Graph {
public:
    Graph() = default;
    Graph(const Graph& other);
    Graph& operator=(const Graph& other);
    Graph(Graph&&) noexcept = default;
    Graph& operator=(Graph&&) noexcept = default;

    std::string name;
    /// Free text shown to people (what the graph is, where it comes from).
    std::string description;

    // ---- building ----
    /// Adds a node; an empty name gets a fresh one ("add_3"). Names are unique: a taken name
    /// throws std::invalid_argument.
    NodeId addNode(Op op, std::vector<ValueRef> inputs, Attributes attrs = {}, std::string name = {});
    NodeId addInput(const std::string& name, Shape shape, std::vector<std::string> dimNames = {}, DType dtype = DType::F32);
    NodeId addParameter(const std::string& name, Tensor value);
    NodeId addConstant(Tensor value, std::string name = {});
    void addOutput(const std::string& name, ValueRef value);
    void setOutputs(std::vector<GraphOutput> outputs);
    std::string freshName(const std::string& stem) const;

    // ---- editing ----
    void setInput(NodeId node, int index, ValueRef value);
    void setInputs(NodeId node, std::vector<ValueRef> inputs);
    /// Points every use of `from` (node inputs and graph outputs) at `to`.
    void replaceAllUses(ValueRef from, ValueRef to);
    /// Removes a node; its uses must be gone first (std::logic_error otherwise).
    void removeNode(NodeId id);
    /// Removes the node even if used: its users' inputs become dangling (kNoNode). For editors.
    void removeNodeForce(NodeId id);
    void rename(NodeId id, const std::string& newName);
    /// Puts a node back at its old id (which must be free: removed earlier), with its inputs
    /// wired; for undo. Its former users are not rewired (their commands do that).
    void insertNodeAt(Node node);

    // ---- reading ----
    bool contains(NodeId id) const { return id >= 0 && std::size_t(id) < nodes_.size() && nodes_[std::size_t(id)]; }
    const Node& node(NodeId id) const { return *nodes_.at(std::size_t(id)); }
    Node& node(NodeId id) { return *nodes_.at(std::size_t(id)); }
    /// Ids of live nodes in creation order.
    std::vector<NodeId> nodeIds() const;
    std::size_t nodeCount() const { return liveCount_; }
    /// One past the largest id ever given (for id-indexed side tables).
    NodeId idBound() const { return NodeId(nodes_.size()); }
    std::optional<NodeId> findNode(const std::string& name) const;
    const std::vector<Use>& users(NodeId id) const { return users_.at(std::size_t(id)); }
    const std::vector<GraphOutput>& outputs() const { return outputs_; }
    std::vector<NodeId> inputNodes() const;      // Input nodes in creation order
    std::vector<NodeId> parameterNodes() const;  // Parameter nodes in creation order
    /// "name" for port 0 of a one-output node, "name:k" otherwise.
    std::string valueName(ValueRef v) const;
    /// Resolves "name" / "name:k" to a value.
    std::optional<ValueRef> findValue(const std::string& valueName) const;
    /// Inferred type of a value (shape inference must have run).
    const ValueType& type(ValueRef v) const;
    bool hasType(ValueRef v) const;

    /// Nodes in an order where inputs come first; ties in creation order (stable for printing).
    /// A node whose meta "schedule" is "late" (a recomputation, passes/checkpointing.h) comes
    /// as late as it can: just before the first other node that needs it.
    /// Throws GraphError naming a node on the cycle when there is one.
    std::vector<NodeId> topoOrder() const;
    /// As topoOrder, restricted to nodes that the outputs depend on.
    std::vector<NodeId> liveTopoOrder() const;
    /// By node id (idBound() entries): 1 for `id` and every node it depends on.
    std::vector<char> dependencies(NodeId id) const;
    /// The meta key and value that ask topoOrder to run a node as late as it can.
    static constexpr const char* kScheduleKey = "schedule";
    static constexpr const char* kScheduleLate = "late";

private:
    /// Kahn's algorithm, ties in creation order, every node as soon as it can (topoOrder's base).
    std::vector<NodeId> creationTopoOrder() const;
    void addUse(ValueRef v, NodeId user, int index);
    void dropUse(ValueRef v, NodeId user, int index);
    std::vector<std::unique_ptr<Node>> nodes_;
    std::vector<std::vector<Use>> users_;
    std::unordered_map<std::string, NodeId> byName_;
    std::vector<GraphOutput> outputs_;
    std::size_t liveCount_ = 0;
};

}  // namespace adj
