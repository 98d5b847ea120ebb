#include "tensor/shape.h"

namespace adj {

std::int64_t numel(const Shape& s) {
    std::int64_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

Strides contiguousStrides(const Shape& s) {
    Strides st(s.size());
    std::int64_t acc = 1;
    for (std::size_t i = s.size(); i-- > 0;) {
        st[i] = acc;
        acc *= s[i];
    }
    return st;
}

std::string shapeToString(const Shape& s) {
    std::string r = "[";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i) r += ", ";
        r += std::to_string(s[i]);
    }
    return r + "]";
}

bool broadcastShapes(const Shape& a, const Shape& b, Shape& out) {
    std::size_t r = std::max(a.size(), b.size());
    out.assign(r, 1);
    for (std::size_t i = 0; i < r; ++i) {
        std::int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
        std::int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
        if (da == db || db == 1) out[i] = da;
        else if (da == 1) out[i] = db;
        else return false;
    }
    return true;
}

bool normalizeAxis(std::int64_t& axis, std::int64_t rank) {
    if (axis < -rank || axis >= rank) return false;
    if (axis < 0) axis += rank;
    return true;
}

bool shapeIsSane(const Shape& s) {
    if (s.size() > std::size_t(kMaxRank)) return false;
    // The product of the nonzero dimensions: an empty shape such as [0, 10^10, 10^10] holds no
    // elements, but its strides must still fit in int64.
    std::int64_t n = 1;
    for (auto d : s) {
        if (d < 0 || d > kMaxElements) return false;
        if (d == 0) continue;
        if (n > kMaxElements / d) return false;
        n *= d;
    }
    return true;
}

}  // namespace adj
