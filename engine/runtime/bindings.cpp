#include "runtime/bindings.h"

#include "base/errors.h"
#include "ir/verifier.h"

namespace adj {

void checkBinding(const Node& n, const Tensor& t) {
    const Shape& want = n.declaredShape;
    bool ok = t.shape().size() == want.size();
    for (std::size_t d = 0; ok && d < want.size(); ++d) {
        bool symbolic = d < n.dimNames.size() && !n.dimNames[d].empty();
        if (!symbolic && t.shape()[d] != want[d]) ok = false;
    }
    if (ok) return;
    std::string decl = "[";
    for (std::size_t d = 0; d < want.size(); ++d) {
        if (d) decl += ", ";
        decl += (d < n.dimNames.size() && !n.dimNames[d].empty()) ? n.dimNames[d] : std::to_string(want[d]);
    }
    throw Error("graph input '" + n.name + "' expects shape " + decl + "], got " + shapeToString(t.shape()));
}

const Tensor& sourceValue(const Node& n, const Bindings& bindings) {
    if (n.op == Op::Parameter)
        if (auto it = bindings.find(n.name); it != bindings.end()) {
            if (it->second.shape() != n.value.shape())
                throw Error("parameter '" + n.name + "' has shape " + shapeToString(n.value.shape()) + ", the bound value " +
                            shapeToString(it->second.shape()));
            return it->second;
        }
    if (!n.value.defined()) throw GraphError("node '" + n.name + "' has no value");
    return n.value;
}

void specializeToBindings(Graph& graph, const Bindings& bindings) {
    for (NodeId id : graph.inputNodes()) {
        Node& n = graph.node(id);
        auto it = bindings.find(n.name);
        if (it == bindings.end()) continue;
        checkBinding(n, it->second);
        n.declaredShape = it->second.shape();
    }
    verifyOrThrow(graph);
}

}  // namespace adj
