#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "passes/matchers.h"
#include "passes/passes.h"

namespace adj {

using namespace match;

namespace {

constexpr std::int64_t kCseMaxConstant = 4096;

inline std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

/// The inputs in the order CSE compares them: sorted for commutative ops (mul(a,b) = mul(b,a)).
/// Returns a view of the node's own list when no sort is needed, else fills `scratch`.
const std::vector<ValueRef>& canonicalInputs(const Node& n, std::vector<ValueRef>& scratch) {
    if (!isCommutative(n.op) || std::is_sorted(n.inputs.begin(), n.inputs.end())) return n.inputs;
    scratch = n.inputs;
    std::sort(scratch.begin(), scratch.end());
    return scratch;
}

bool mergeable(const Node& n) {
    if (n.op == Op::Input || n.op == Op::Parameter) return false;
    // a recomputation (passes/checkpointing.h) repeats its original on purpose: merging the
    // two would undo the memory it saves
    if (n.meta.count("recompute_of")) return false;
    if (n.op == Op::Constant) return n.value.defined() && n.value.numel() <= kCseMaxConstant;
    return true;
}

/// The bits of a constant's values, in element order (contiguous: no copy for the usual case).
struct ConstantBits {
    Tensor contiguous;
    const unsigned char* bytes = nullptr;
    std::size_t size = 0;
    explicit ConstantBits(const Tensor& t) : contiguous(t.contiguous()) {
        bytes = reinterpret_cast<const unsigned char*>(contiguous.data());
        size = std::size_t(contiguous.numel()) * sizeof(float);
    }
};

/// Hash of op, attributes, inputs (sorted for commutative ops) and, for constants, shape and values.
std::uint64_t cseHash(const Node& n, std::vector<ValueRef>& scratch) {
    std::uint64_t h = mix(0, std::uint64_t(n.op));
    if (n.op == Op::Constant) {
        for (auto d : n.value.shape()) h = mix(h, std::uint64_t(d));
        const ConstantBits c(n.value);
        for (std::size_t i = 0; i + 4 <= c.size; i += 4) {
            std::uint32_t bits;
            std::memcpy(&bits, c.bytes + i, sizeof bits);
            h = mix(h, bits);
        }
        return h;
    }
    if (!n.attrs.map().empty())
        for (const auto& [name, v] : n.attrs.map()) h = mix(h, std::hash<std::string>()(name + "=" + attrValueToString(v)));
    for (const auto& v : canonicalInputs(n, scratch)) h = mix(h, (std::uint64_t(std::uint32_t(v.node)) << 32) | std::uint32_t(v.port));
    return h;
}

bool cseEqual(const Node& a, const Node& b, std::vector<ValueRef>& scratchA, std::vector<ValueRef>& scratchB) {
    if (a.op != b.op || !(a.outputs == b.outputs)) return false;
    if (a.op == Op::Constant) {
        if (a.value.shape() != b.value.shape()) return false;
        const ConstantBits ca(a.value), cb(b.value);
        return ca.size == cb.size && std::memcmp(ca.bytes, cb.bytes, ca.size) == 0;
    }
    return a.attrs == b.attrs && canonicalInputs(a, scratchA) == canonicalInputs(b, scratchB);
}

}  // namespace

RuleSet cseRules() {
    // hash -> nodes seen with it (entries may be stale: equality is checked on the live nodes)
    struct State {
        std::unordered_multimap<std::uint64_t, NodeId> table;
        std::vector<ValueRef> scratchA, scratchB;
    };
    auto state = std::make_shared<State>();
    RewriteRule merge{"cse", {}, [state](Rewriter& rw, NodeId id) -> RewriteResult {
        Graph& g = rw.graph();
        const Node& n = g.node(id);
        if (!mergeable(n)) return kNoMatch;
        auto& table = state->table;
        if (table.empty()) table.reserve(g.nodeCount());
        const std::uint64_t h = cseHash(n, state->scratchA);
        bool seen = false;
        for (auto [it, end] = table.equal_range(h); it != end; ++it) {
            const NodeId other = it->second;
            if (other == id) {
                seen = true;
                continue;
            }
            if (!g.contains(other) || !cseEqual(g.node(other), n, state->scratchA, state->scratchB)) continue;
            std::vector<ValueRef> out;
            for (int p = 0; p < int(n.outputs.size()); ++p) out.push_back({other, p});
            return replaceBy(std::move(out));
        }
        if (!seen) table.emplace(h, id);
        return kNoMatch;
    }};
    return RuleSet({merge});
}

}  // namespace adj
