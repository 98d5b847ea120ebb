// The ONNX importer's checks of a whole model before anything is converted: the opset, that
// every op is supported (one message naming them all), that names are defined once and every
// read is defined, and an order of the nodes (or the cycle).
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include <onnx/defs/schema.h>

#include "io/onnx_import.h"
#include "io/onnx_importer.h"

namespace adj::onnx_io {

void Importer::checkOpsets() {
    bool found = false, training = false;
    for (const auto& o : model_.opset_import()) {
        if (isDefaultDomain(o.domain())) {
            found = true;
            opset_ = o.version();
        }
        training = training || (o.domain() == kTrainingDomain && o.version() == 1);
    }
    if (!found && training) {  // the training domain's optimizers alone: read as opset 17's ops
        opset_ = kImportOpsetMax;
        found = true;
    }
    if (!found) {
        // a model of another domain's ops alone (ai.onnx.preview.training's optimizers): name them
        std::string first;
        if (gp_.node_size() > 0) {
            const auto& n = gp_.node(0);
            first = " (node '" + (!n.name().empty() ? n.name() : n.output_size() ? n.output(0) : std::string("(unnamed)")) + "' is " +
                    (n.domain().empty() ? std::string() : n.domain() + ".") + n.op_type() + ", an op of a domain this importer does not read)";
        }
        fail("the model imports no opset of the default ONNX domain" + first);
    }
    if (opset_ < 1 || opset_ > kImportOpsetMax)
        fail("opset " + std::to_string(opset_) + " of the default domain is not supported (this importer reads opsets 1 to " + std::to_string(kImportOpsetMax) +
             ", older ones where an op's definition is the one of opset " + std::to_string(kImportOpsetMin) + ")");
}

namespace {

/// Calls f on every node of g and of its subgraphs (If branches), depth first. protobuf's
/// recursion limit bounds the nesting.
void forEachNode(const onnx::GraphProto& g, const std::function<void(const onnx::NodeProto&)>& f) {
    for (const auto& n : g.node()) {
        f(n);
        for (const auto& a : n.attribute()) {
            if (a.has_g()) forEachNode(a.g(), f);
            for (const auto& sub : a.graphs()) forEachNode(sub, f);
        }
    }
}

/// The values of enclosing graphs that g's nodes (and their subgraphs) read.
std::set<std::string> outerReads(const onnx::GraphProto& g) {
    std::set<std::string> defined, reads;
    for (const auto& t : g.initializer()) defined.insert(t.name());
    for (const auto& i : g.input()) defined.insert(i.name());
    for (const auto& n : g.node()) {
        for (const auto& i : n.input())
            if (!i.empty()) reads.insert(i);
        for (const auto& a : n.attribute()) {
            if (a.has_g()) reads.merge(outerReads(a.g()));
            for (const auto& sub : a.graphs()) reads.merge(outerReads(sub));
        }
        for (const auto& o : n.output()) defined.insert(o);
    }
    for (const auto& o : g.output()) reads.insert(o.name());
    std::set<std::string> r;
    for (const auto& name : reads)
        if (!defined.count(name)) r.insert(name);
    return r;
}

}  // namespace

std::set<std::string> nodeReads(const onnx::NodeProto& n) {
    std::set<std::string> r;
    for (const auto& i : n.input())
        if (!i.empty()) r.insert(i);
    for (const auto& a : n.attribute()) {
        if (a.has_g()) r.merge(outerReads(a.g()));
        for (const auto& sub : a.graphs()) r.merge(outerReads(sub));
    }
    return r;
}

void Importer::checkSupported() {
    // Every unsupported op type with its node names, in one message.
    std::map<std::string, std::vector<std::string>> unsupported;
    const auto& table = handlers();
    forEachNode(gp_, [&](const onnx::NodeProto& n) {
        std::string type;
        if (isDefaultDomain(n.domain())) {
            if (!table.count(n.op_type())) type = n.op_type();
        } else if (n.domain() == kAdjointDomain) {
            auto op = opFromName(n.op_type());
            if (!op || isSource(*op)) type = n.domain() + "." + n.op_type();
        } else if (n.domain() == kTrainingDomain) {
            if (!table.count(n.domain() + "." + n.op_type())) type = n.domain() + "." + n.op_type();
        } else {
            type = n.domain() + "." + n.op_type();
        }
        if (type.empty()) return;
        std::string name = !n.name().empty() ? n.name() : (n.output_size() ? n.output(0) : std::string("(unnamed)"));
        unsupported[type].push_back(name);
    });
    if (unsupported.empty()) return;
    std::string msg = "unsupported ONNX op" + std::string(unsupported.size() > 1 ? "s" : "") + ": ";
    bool first = true;
    for (const auto& [type, names] : unsupported) {
        msg += (first ? "" : ", ") + type + " (node" + (names.size() > 1 ? "s " : " ");
        first = false;
        for (std::size_t i = 0; i < names.size() && i < 3; ++i) msg += (i ? ", '" : "'") + names[i] + "'";
        if (names.size() > 3) msg += " and " + std::to_string(names.size() - 3) + " more";
        msg += ")";
    }
    fail(msg + " (docs/ONNX.md lists the supported ops)");
}

void Importer::checkOldDefinitions() {
    // The handlers read each op as opsets kImportOpsetMin..kImportOpsetMax define it. An older
    // model is read when every op it uses has the same definition (the same schema version) in
    // its opset as in kImportOpsetMin; an op that changed since (Slice's attributes, Add's
    // broadcast attribute, Clip's bounds, ...) is refused, naming the node and both versions.
    if (opset_ >= kImportOpsetMin) return;
    // Ops whose handler reads older versions too, and the oldest: Upsample (7: scales as an
    // attribute, 9: as an input), Scatter (9, ScatterElements without negative indices, which
    // opset 11 deprecated), ReduceLogSum (1: axes without negative values).
    static const std::map<std::string, int> olderVersionsRead{{"Upsample", 7}, {"Scatter", 9}, {"ReduceLogSum", 1}};
    const auto& registry = *onnx::OpSchemaRegistry::Instance();
    forEachNode(gp_, [&](const onnx::NodeProto& n) {
        if (!isDefaultDomain(n.domain())) return;
        if (const auto it = olderVersionsRead.find(n.op_type()); it != olderVersionsRead.end()) {
            const onnx::OpSchema* then = registry.GetSchema(n.op_type(), int(opset_), "");
            if (then && then->since_version() >= it->second) return;
        }
        const std::string node = "node '" + (!n.name().empty() ? n.name() : n.output_size() ? n.output(0) : std::string("(unnamed)")) + "' (" + n.op_type() + "): ";
        const onnx::OpSchema* then = registry.GetSchema(n.op_type(), int(opset_), "");
        const onnx::OpSchema* now = registry.GetSchema(n.op_type(), int(kImportOpsetMin), "");
        if (!then) fail(node + "opset " + std::to_string(opset_) + " has no op " + n.op_type());
        if (!now || then->since_version() != now->since_version())
            fail(node + "the model's opset " + std::to_string(opset_) + " defines " + n.op_type() + " as its version " + std::to_string(then->since_version()) +
                        ", which this importer does not read (it reads " + n.op_type() +
                        (now ? " version " + std::to_string(now->since_version()) + ", of opsets " + std::to_string(now->since_version()) + " to " +
                                   std::to_string(kImportOpsetMax)
                             : ", removed by opset " + std::to_string(kImportOpsetMin)) +
                        ")");
    });
}

void Importer::checkStructure() {
    std::set<std::string> defined;
    for (const auto& t : gp_.initializer()) {
        if (t.name().empty()) fail("an initializer has no name");
        if (!defined.insert(t.name()).second) fail("initializer '" + t.name() + "' is defined twice");
    }
    std::set<std::string> initNames = defined;
    for (const auto& in : gp_.input()) {
        if (in.name().empty()) fail("a graph input has no name");
        if (initNames.count(in.name())) continue;
        if (!defined.insert(in.name()).second) fail("graph input '" + in.name() + "' is declared twice");
    }
    // Values of If branches count too: ONNX names are unique across all scopes.
    forEachNode(gp_, [&](const onnx::NodeProto& n) {
        for (const auto& o : n.output())
            if (!o.empty() && !defined.insert(o).second) fail(nodeLabel(n) + ": its output '" + o + "' is already defined (ONNX values are assigned once)");
        for (const auto& a : n.attribute()) {
            const bool graphAttr = a.type() == onnx::AttributeProto::GRAPH || a.type() == onnx::AttributeProto::GRAPHS || a.has_g() || a.graphs_size();
            if (!graphAttr) continue;
            if (n.op_type() != "If" || !isDefaultDomain(n.domain())) fail(nodeLabel(n) + ": subgraph attributes are supported for If only");
            if (a.has_g())
                for (const auto& t : a.g().initializer())
                    if (!defined.insert(t.name()).second) fail(nodeLabel(n) + ": initializer '" + t.name() + "' of a branch is already defined");
        }
    });
    forEachNode(gp_, [&](const onnx::NodeProto& n) {
        for (const auto& i : nodeReads(n)) {
            used_.insert(i);
            if (!defined.count(i)) fail(nodeLabel(n) + ": input '" + i + "' is not defined (no graph input, initializer or node output has this name)");
        }
    });
    if (gp_.output_size() == 0) fail("the graph has no outputs");
    for (const auto& o : gp_.output()) {
        used_.insert(o.name());
        if (!defined.count(o.name())) fail("graph output '" + o.name() + "' is not defined (no graph input, initializer or node output has this name)");
    }
    if (gp_.sparse_initializer_size() > 0) fail("sparse initializers are not supported");
}

std::vector<int> Importer::topoOrder() {
    // Kahn's algorithm over nodes; ties in file order.
    const int count = gp_.node_size();
    std::unordered_map<std::string, int> producer;
    for (int i = 0; i < count; ++i)
        for (const auto& o : gp_.node(i).output())
            if (!o.empty()) producer[o] = i;
    std::vector<int> pending(std::size_t(count), 0);
    std::vector<std::vector<int>> consumers(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i)
        for (const auto& in : nodeReads(gp_.node(i))) {
            auto it = producer.find(in);
            if (it == producer.end()) continue;
            ++pending[std::size_t(i)];
            consumers[std::size_t(it->second)].push_back(i);
        }
    std::set<int> ready;
    for (int i = 0; i < count; ++i)
        if (!pending[std::size_t(i)]) ready.insert(i);
    std::vector<int> order;
    while (!ready.empty()) {
        int i = *ready.begin();
        ready.erase(ready.begin());
        order.push_back(i);
        for (int c : consumers[std::size_t(i)])
            if (--pending[std::size_t(c)] == 0) ready.insert(c);
    }
    if (int(order.size()) != count) {
        for (int i = 0; i < count; ++i)
            if (pending[std::size_t(i)]) fail("the graph has a cycle through " + nodeLabel(gp_.node(i)));
    }
    return order;
}

}  // namespace adj::onnx_io
