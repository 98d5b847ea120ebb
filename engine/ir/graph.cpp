#include "ir/graph.h"

#include <algorithm>
#include <queue>
#include <stdexcept>

#include "base/errors.h"

namespace adj {

int Node::numOutputs() const {
    if (op == Op::Split) {
        auto it = attrs.map().find("sizes");
        if (it != attrs.map().end())
            if (auto p = std::get_if<std::vector<std::int64_t>>(&it->second)) return std::max<int>(1, int(p->size()));
        return 1;
    }
    return 1;
}

Graph::Graph(const Graph& o) : name(o.name), description(o.description), users_(o.users_), byName_(o.byName_), outputs_(o.outputs_), liveCount_(o.liveCount_) {
    nodes_.reserve(o.nodes_.size());
    for (const auto& n : o.nodes_) nodes_.push_back(n ? std::make_unique<Node>(*n) : nullptr);
}

Graph& Graph::operator=(const Graph& o) {
    if (this != &o) {
        Graph tmp(o);
        *this = std::move(tmp);
    }
    return *this;
}

std::string Graph::freshName(const std::string& stem) const {
    if (!byName_.count(stem)) return stem;
    for (std::size_t i = 1;; ++i) {
        std::string n = stem + "_" + std::to_string(i);
        if (!byName_.count(n)) return n;
    }
}

NodeId Graph::addNode(Op op, std::vector<ValueRef> inputs, Attributes attrs, std::string nodeName) {
    if (nodeName.empty()) nodeName = freshName(std::string(opName(op)));
    if (byName_.count(nodeName)) throw std::invalid_argument("node name '" + nodeName + "' is already taken");
    auto n = std::make_unique<Node>();
    n->id = NodeId(nodes_.size());
    n->op = op;
    n->name = nodeName;
    n->attrs = std::move(attrs);
    n->inputs = std::move(inputs);
    NodeId id = n->id;
    nodes_.push_back(std::move(n));
    users_.emplace_back();
    byName_[nodeName] = id;
    ++liveCount_;
    const auto& ins = nodes_.back()->inputs;
    for (std::size_t i = 0; i < ins.size(); ++i) addUse(ins[i], id, int(i));
    return id;
}

NodeId Graph::addInput(const std::string& inputName, Shape shape, std::vector<std::string> dimNames, DType dtype) {
    NodeId id = addNode(Op::Input, {}, {}, inputName);
    Node& n = node(id);
    n.declaredShape = shape;
    n.declaredDType = dtype;
    dimNames.resize(shape.size());
    n.dimNames = std::move(dimNames);
    n.outputs = {ValueType{shape, dtype}};
    return id;
}

NodeId Graph::addParameter(const std::string& paramName, Tensor value) {
    NodeId id = addNode(Op::Parameter, {}, {}, paramName);
    Node& n = node(id);
    n.outputs = {ValueType{value.shape(), value.dtype()}};
    n.value = std::move(value);
    return id;
}

NodeId Graph::addConstant(Tensor value, std::string constName) {
    NodeId id = addNode(Op::Constant, {}, {}, constName.empty() ? freshName("const") : constName);
    Node& n = node(id);
    n.outputs = {ValueType{value.shape(), value.dtype()}};
    n.value = std::move(value);
    return id;
}

void Graph::addOutput(const std::string& outName, ValueRef value) { outputs_.push_back({outName, value}); }
void Graph::setOutputs(std::vector<GraphOutput> outputs) { outputs_ = std::move(outputs); }

void Graph::addUse(ValueRef v, NodeId user, int index) {
    if (contains(v.node)) users_[std::size_t(v.node)].push_back({user, index});
}

void Graph::dropUse(ValueRef v, NodeId user, int index) {
    if (!contains(v.node)) return;
    // A shared constant can have tens of thousands of users, removed oldest first (a pass walking
    // in order) or newest first (undo, a rule dropping what it just built): search from both ends.
    auto& u = users_[std::size_t(v.node)];
    for (std::size_t lo = 0, hi = u.size(); lo < hi;) {
        if (u[lo].user == user && u[lo].index == index) {
            u.erase(u.begin() + std::ptrdiff_t(lo));
            return;
        }
        --hi;
        if (u[hi].user == user && u[hi].index == index) {
            u.erase(u.begin() + std::ptrdiff_t(hi));
            return;
        }
        ++lo;
    }
}

void Graph::setInput(NodeId id, int index, ValueRef value) {
    Node& n = node(id);
    dropUse(n.inputs.at(std::size_t(index)), id, index);
    n.inputs[std::size_t(index)] = value;
    addUse(value, id, index);
}

void Graph::setInputs(NodeId id, std::vector<ValueRef> inputs) {
    Node& n = node(id);
    for (std::size_t i = 0; i < n.inputs.size(); ++i) dropUse(n.inputs[i], id, int(i));
    n.inputs = std::move(inputs);
    for (std::size_t i = 0; i < n.inputs.size(); ++i) addUse(n.inputs[i], id, int(i));
}

void Graph::replaceAllUses(ValueRef from, ValueRef to) {
    if (from == to) return;
    if (contains(from.node)) {
        std::vector<Use> uses = users_[std::size_t(from.node)];
        for (const Use& u : uses)
            if (node(u.user).inputs[std::size_t(u.index)] == from) setInput(u.user, u.index, to);
    }
    for (auto& o : outputs_)
        if (o.value == from) o.value = to;
}

void Graph::removeNode(NodeId id) {
    if (!contains(id)) return;
    if (!users_[std::size_t(id)].empty())
        throw std::logic_error("removeNode: '" + node(id).name + "' still has users");
    removeNodeForce(id);
}

void Graph::removeNodeForce(NodeId id) {
    if (!contains(id)) return;
    Node& n = node(id);
    for (std::size_t i = 0; i < n.inputs.size(); ++i) dropUse(n.inputs[i], id, int(i));
    for (const Use& u : users_[std::size_t(id)]) nodes_[std::size_t(u.user)]->inputs[std::size_t(u.index)] = ValueRef{};
    users_[std::size_t(id)].clear();
    byName_.erase(n.name);
    nodes_[std::size_t(id)].reset();
    --liveCount_;
}

void Graph::insertNodeAt(Node node) {
    const NodeId id = node.id;
    if (id < 0) throw std::invalid_argument("insertNodeAt: invalid id");
    if (contains(id)) throw std::logic_error("insertNodeAt: id " + std::to_string(id) + " is taken");
    if (byName_.count(node.name)) throw std::invalid_argument("node name '" + node.name + "' is already taken");
    if (std::size_t(id) >= nodes_.size()) {
        nodes_.resize(std::size_t(id) + 1);
        users_.resize(std::size_t(id) + 1);
    }
    nodes_[std::size_t(id)] = std::make_unique<Node>(std::move(node));
    byName_[nodes_[std::size_t(id)]->name] = id;
    ++liveCount_;
    const auto& ins = nodes_[std::size_t(id)]->inputs;
    for (std::size_t i = 0; i < ins.size(); ++i) addUse(ins[i], id, int(i));
}

void Graph::rename(NodeId id, const std::string& newName) {
    Node& n = node(id);
    if (n.name == newName) return;
    if (byName_.count(newName)) throw std::invalid_argument("node name '" + newName + "' is already taken");
    byName_.erase(n.name);
    n.name = newName;
    byName_[newName] = id;
}

std::vector<NodeId> Graph::nodeIds() const {
    std::vector<NodeId> ids;
    ids.reserve(liveCount_);
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i]) ids.push_back(NodeId(i));
    return ids;
}

std::optional<NodeId> Graph::findNode(const std::string& nodeName) const {
    auto it = byName_.find(nodeName);
    if (it == byName_.end()) return std::nullopt;
    return it->second;
}

std::vector<NodeId> Graph::inputNodes() const {
    std::vector<NodeId> r;
    for (NodeId id : nodeIds())
        if (node(id).op == Op::Input) r.push_back(id);
    return r;
}

std::vector<NodeId> Graph::parameterNodes() const {
    std::vector<NodeId> r;
    for (NodeId id : nodeIds())
        if (node(id).op == Op::Parameter) r.push_back(id);
    return r;
}

std::string Graph::valueName(ValueRef v) const {
    if (!contains(v.node)) return "<missing>";
    const Node& n = node(v.node);
    if (n.numOutputs() == 1 && v.port == 0) return n.name;
    return n.name + ":" + std::to_string(v.port);
}

std::optional<ValueRef> Graph::findValue(const std::string& vn) const {
    if (auto id = findNode(vn)) return ValueRef{*id, 0};
    auto colon = vn.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    auto id = findNode(vn.substr(0, colon));
    if (!id) return std::nullopt;
    const std::string portText = vn.substr(colon + 1);
    if (portText.empty() || portText.size() > 6 || portText.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    int port = std::stoi(portText);
    if (port >= node(*id).numOutputs()) return std::nullopt;
    return ValueRef{*id, port};
}

bool Graph::hasType(ValueRef v) const {
    return contains(v.node) && v.port >= 0 && std::size_t(v.port) < node(v.node).outputs.size();
}

const ValueType& Graph::type(ValueRef v) const {
    if (!hasType(v)) throw GraphError("value '" + valueName(v) + "' has no inferred shape");
    return node(v.node).outputs[std::size_t(v.port)];
}

std::vector<NodeId> Graph::topoOrder() const {
    std::vector<NodeId> base = creationTopoOrder();
    std::vector<char> late(nodes_.size(), 0);
    bool anyLate = false;
    for (NodeId id : base) {
        const auto& meta = nodes_[std::size_t(id)]->meta;
        if (meta.empty()) continue;
        auto it = meta.find(kScheduleKey);
        late[std::size_t(id)] = it != meta.end() && it->second == kScheduleLate;
        anyLate = anyLate || late[std::size_t(id)];
    }
    if (!anyLate) return base;
    // Kahn's algorithm again, except that a late node whose inputs are all done is parked, not
    // run: its readers count it as done, and the first of them to run emits it (with its parked
    // late inputs, inputs first) just before itself. Linear in nodes and edges.
    std::vector<int> pending(nodes_.size(), 0);
    std::priority_queue<NodeId, std::vector<NodeId>, std::greater<>> ready;
    std::vector<NodeId> done;  // nodes just run or parked, whose readers are still to be told
    for (NodeId id : base) {
        for (const auto& in : nodes_[std::size_t(id)]->inputs)
            if (contains(in.node)) ++pending[std::size_t(id)];
        if (pending[std::size_t(id)] == 0) (late[std::size_t(id)] ? done.push_back(id) : ready.push(id));
    }
    auto tellReaders = [&] {
        while (!done.empty()) {
            const NodeId id = done.back();
            done.pop_back();
            for (const Use& u : users_[std::size_t(id)])
                if (--pending[std::size_t(u.user)] == 0) (late[std::size_t(u.user)] ? done.push_back(u.user) : ready.push(u.user));
        }
    };
    tellReaders();
    std::vector<char> emitted(nodes_.size(), 0);
    std::vector<NodeId> order;
    order.reserve(base.size());
    // a parked node's parked inputs first, depth first without recursion, then the node
    std::vector<std::pair<NodeId, std::size_t>> stack;
    auto emitLate = [&](NodeId root) {
        if (emitted[std::size_t(root)]) return;
        stack.assign(1, {root, 0});
        while (!stack.empty()) {
            auto& [id, next] = stack.back();
            const auto& inputs = nodes_[std::size_t(id)]->inputs;
            bool descended = false;
            while (next < inputs.size()) {
                const NodeId in = inputs[next++].node;
                if (contains(in) && late[std::size_t(in)] && !emitted[std::size_t(in)]) {
                    emitted[std::size_t(in)] = 2;  // (on the stack)
                    stack.emplace_back(in, 0);
                    descended = true;
                    break;
                }
            }
            if (descended) continue;
            emitted[std::size_t(id)] = 1;
            order.push_back(id);
            stack.pop_back();
        }
    };
    while (!ready.empty()) {
        const NodeId id = ready.top();
        ready.pop();
        for (const auto& in : nodes_[std::size_t(id)]->inputs)
            if (contains(in.node) && late[std::size_t(in.node)]) emitLate(in.node);
        emitted[std::size_t(id)] = 1;
        order.push_back(id);
        done.push_back(id);
        tellReaders();
    }
    for (NodeId id : base)  // late nodes no other node needs
        if (late[std::size_t(id)]) emitLate(id);
    return order;
}

std::vector<NodeId> Graph::creationTopoOrder() const {
    // Kahn's algorithm with a min-heap on ids: inputs first, ties in creation order.
    std::vector<int> pending(nodes_.size(), 0);
    std::priority_queue<NodeId, std::vector<NodeId>, std::greater<>> ready;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i]) continue;
        int k = 0;
        for (const auto& in : nodes_[i]->inputs)
            if (contains(in.node)) ++k;
        pending[i] = k;
        if (k == 0) ready.push(NodeId(i));
    }
    std::vector<NodeId> order;
    order.reserve(liveCount_);
    while (!ready.empty()) {
        NodeId id = ready.top();
        ready.pop();
        order.push_back(id);
        for (const Use& u : users_[std::size_t(id)])
            if (--pending[std::size_t(u.user)] == 0) ready.push(u.user);
    }
    if (order.size() != liveCount_) {
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i] && pending[i] > 0)
                throw GraphError("node '" + nodes_[i]->name + "' (" + std::string(opName(nodes_[i]->op)) + ") is on a cycle");
    }
    return order;
}

std::vector<char> Graph::dependencies(NodeId id) const {
    std::vector<char> mark(nodes_.size(), 0);
    std::vector<NodeId> stack{id};
    while (!stack.empty()) {
        const NodeId n = stack.back();
        stack.pop_back();
        if (!contains(n) || mark[std::size_t(n)]) continue;
        mark[std::size_t(n)] = 1;
        for (const auto& in : nodes_[std::size_t(n)]->inputs) stack.push_back(in.node);
    }
    return mark;
}

std::vector<NodeId> Graph::liveTopoOrder() const {
    std::vector<char> live(nodes_.size(), 0);
    std::vector<NodeId> stack;
    for (const auto& o : outputs_)
        if (contains(o.value.node)) stack.push_back(o.value.node);
    while (!stack.empty()) {
        NodeId id = stack.back();
        stack.pop_back();
        if (live[std::size_t(id)]) continue;
        live[std::size_t(id)] = 1;
        for (const auto& in : node(id).inputs)
            if (contains(in.node) && !live[std::size_t(in.node)]) stack.push_back(in.node);
    }
    std::vector<NodeId> order;
    for (NodeId id : topoOrder())
        if (live[std::size_t(id)]) order.push_back(id);
    return order;
}

}  // namespace adj
