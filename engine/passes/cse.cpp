#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "passes/passes.h"

namespace adj {

namespace {

constexpr std::int64_t kCseMaxConstant = 4096;

inline std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

std::vector<ValueRef> canonicalInputs(const Node& n) {
    std::vector<ValueRef> ins = n.inputs;
    if (isCommutative(n.op)) std::sort(ins.begin(), ins.end());
    return ins;
}

bool mergeable(const Node& n) {
    if (n.op == Op::Input || n.op == Op::Parameter) return false;
    if (n.op == Op::Constant) return n.value.defined() && n.value.numel() <= kCseMaxConstant;
    return true;
}

/// Hash of op, attributes, inputs (sorted for commutative ops) and, for constants, shape and values.
std::uint64_t cseHash(const Node& n) {
    std::uint64_t h = mix(0, std::uint64_t(n.op));
    if (n.op == Op::Constant) {
        for (auto d : n.value.shape()) h = mix(h, std::uint64_t(d));
        for (float f : n.value.toVector()) {
            std::uint32_t bits;
            std::memcpy(&bits, &f, sizeof bits);
            h = mix(h, bits);
        }
        return h;
    }
    if (!n.attrs.map().empty())
        for (const auto& [name, v] : n.attrs.map()) h = mix(h, std::hash<std::string>()(name + "=" + attrValueToString(v)));
    for (const auto& v : canonicalInputs(n)) h = mix(h, (std::uint64_t(std::uint32_t(v.node)) << 32) | std::uint32_t(v.port));
    return h;
}

bool cseEqual(const Node& a, const Node& b) {
    if (a.op != b.op || !(a.outputs == b.outputs)) return false;
    if (a.op == Op::Constant) return a.value.shape() == b.value.shape() && a.value.toVector() == b.value.toVector();
    return a.attrs == b.attrs && canonicalInputs(a) == canonicalInputs(b);
}

}  // namespace

RuleSet cseRules() {
    // hash -> nodes seen with it (entries may be stale: equality is checked on the live nodes)
    auto table = std::make_shared<std::unordered_map<std::uint64_t, std::vector<NodeId>>>();
    RewriteRule merge{"cse", {}, [table](Rewriter& rw, NodeId id) -> std::optional<std::vector<ValueRef>> {
        Graph& g = rw.graph();
        const Node& n = g.node(id);
        if (!mergeable(n)) return std::nullopt;
        auto& bucket = (*table)[cseHash(n)];
        for (NodeId other : bucket) {
            if (other == id || !g.contains(other) || !cseEqual(g.node(other), n)) continue;
            std::vector<ValueRef> out;
            for (int p = 0; p < int(n.outputs.size()); ++p) out.push_back({other, p});
            return out;
        }
        if (std::find(bucket.begin(), bucket.end(), id) == bucket.end()) bucket.push_back(id);
        return std::nullopt;
    }};
    return RuleSet({merge});
}

}  // namespace adj
