#include "runtime/bindings.h"

#include <limits>

#include "tensor/dtype_visit.h"

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
    if (ok && t.dtype() != n.declaredDType)
        throw Error("graph input '" + n.name + "' is " + std::string(dtypeName(n.declaredDType)) + ", the bound value " +
                    std::string(dtypeName(t.dtype())));
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

std::int64_t indexBound(const Graph& graph, NodeId input) {
    std::int64_t bound = -1;
    for (const Use& u : graph.users(input)) {
        const Node& user = graph.node(u.user);
        if ((user.op != Op::Gather && user.op != Op::GatherElements) || u.index != 1 || user.inputs.empty() || !graph.hasType(user.inputs[0])) continue;
        const Shape& data = graph.type(user.inputs[0]).shape;
        std::int64_t axis = user.attrs.getInt(user.op, "axis");
        if (!normalizeAxis(axis, std::int64_t(data.size()))) continue;
        const std::int64_t size = data[std::size_t(axis)];
        bound = bound < 0 ? size : std::min(bound, size);
    }
    return std::max<std::int64_t>(bound, 1);
}

Tensor sampleIndices(const Graph& graph, NodeId input, const Shape& shape, Rng& rng) {
    const std::int64_t bound = indexBound(graph, input);
    Tensor t = Tensor::empty(shape, DType::I64);
    std::int64_t* p = t.i64();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = std::int64_t(rng.below(std::uint64_t(bound)));
    return t;
}

Tensor sampleIntegerInput(const Graph& graph, NodeId input, const Shape& shape, Rng& rng) {
    const DType type = graph.node(input).declaredDType;
    if (type == DType::I64) return sampleIndices(graph, input, shape, rng);
    Tensor t = Tensor::empty(shape, type);
    if (type == DType::Bool) {
        for (std::int64_t i = 0; i < t.numel(); ++i) t.ptr<std::uint8_t>()[i] = std::uint8_t(rng.below(2));
    } else if (isInteger(type)) {  // valid indices that fit the type (an index bound beyond it is cut to the type's range)
        const Tensor wide = sampleIndices(graph, input, shape, rng);
        visitIntegerDType(type, [&](auto tag) {
            using T = typename decltype(tag)::type;
            constexpr std::int64_t cap = std::numeric_limits<T>::max() > std::uint64_t(INT64_MAX) ? INT64_MAX : std::int64_t(std::numeric_limits<T>::max());
            for (std::int64_t i = 0; i < t.numel(); ++i) t.ptr<T>()[i] = T(std::min<std::int64_t>(wide.i64()[i], cap));
        });
    } else if (isFloating(type)) {  // standard normal values, as float inputs get
        visitDType(type, [&](auto tag) {
            using T = typename decltype(tag)::type;
            for (std::int64_t i = 0; i < t.numel(); ++i) {
                const double v = rng.normal();
                if constexpr (std::is_same_v<T, Half>) t.ptr<T>()[i] = toHalf(float(v));
                else if constexpr (std::is_same_v<T, BFloat16>) t.ptr<T>()[i] = toBFloat16(float(v));
                else if constexpr (std::is_floating_point_v<T>) t.ptr<T>()[i] = T(v);
            }
        });
    }
    return t;
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
