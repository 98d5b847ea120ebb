#include "kernel_test_support.h"

#include <QStringList>
#include <QtGlobal>

#include <cmath>
#include <limits>
#include <numeric>

#include "ir/graph.h"
#include "runtime/cpu/cpu_kernels.h"

namespace adj::test {

Shape parseShape(const QString& s) {
    Shape out;
    if (s.isEmpty()) return out;
    for (const QString& part : s.split('x')) out.push_back(part.toLongLong());
    return out;
}

std::vector<std::int64_t> parseInts(const QString& s) {
    std::vector<std::int64_t> out;
    if (s.isEmpty()) return out;
    for (const QString& part : s.split(',')) {
        if (part == "max") out.push_back(std::numeric_limits<std::int64_t>::max());
        else if (part == "min") out.push_back(std::numeric_limits<std::int64_t>::min());
        else out.push_back(part.toLongLong());
    }
    return out;
}

Op opNamed(const QString& name) {
    auto op = opFromName(name.toStdString());
    if (!op) qFatal("unknown op %s", qPrintable(name));
    return *op;
}

Tensor randomTensor(const Shape& s, Rng& rng, float lo, float hi, bool integers) {
    std::vector<float> v(std::size_t(numel(s)));
    for (float& x : v) x = integers ? std::round(rng.next(lo, hi)) : rng.next(lo, hi);
    return Tensor::fromVector(s, v);
}

Tensor makeInput(const Shape& s, int layout, std::uint32_t seed, float lo, float hi, bool integers) {
    Rng rng{seed * 7919u + 17u};
    const std::size_t r = s.size();
    switch (layout) {
    case Transposed: {
        Shape rs(s.rbegin(), s.rend());
        std::vector<std::int64_t> perm(r);
        std::iota(perm.rbegin(), perm.rend(), std::int64_t(0));
        return randomTensor(rs, rng, lo, hi, integers).permute(perm);
    }
    case Stepped: {
        Shape big;
        for (auto d : s) big.push_back(2 * d + 1);
        Tensor t = randomTensor(big, rng, lo, hi, integers);
        for (std::size_t a = 0; a < r; ++a) t = t.slice(std::int64_t(a), 1, 1 + 2 * s[a], 2);
        return t;
    }
    case Broadcast: {
        if (r == 0) return randomTensor(s, rng, lo, hi, integers);
        Shape b = s;
        b[0] = 1;
        return randomTensor(b, rng, lo, hi, integers).expand(s);
    }
    default:
        return randomTensor(s, rng, lo, hi, integers);
    }
}

Index unravel(std::int64_t i, const Shape& s) {
    Index idx(s.size());
    for (std::size_t d = s.size(); d-- > 0;) {
        idx[d] = i % s[d];
        i /= s[d];
    }
    return idx;
}

float get(const Tensor& t, const Index& idx) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
    return t.data()[off];
}

Index broadcastIndex(const Index& out, const Shape& s) {
    Index idx(s.size());
    const std::size_t lead = out.size() - s.size();
    for (std::size_t d = 0; d < s.size(); ++d) idx[d] = s[d] == 1 ? 0 : out[lead + d];
    return idx;
}

std::vector<Tensor> runOp(Op op, const Attributes& attrs, const std::vector<Tensor>& inputs, const std::vector<Shape>& outShapes) {
    Node n;
    n.op = op;
    n.name = "t";
    n.attrs = attrs;
    std::vector<ValueType> types;
    for (const auto& s : outShapes) types.push_back(ValueType{s, DType::F32});
    cpu::KernelCall call{n, inputs, types, {}};
    cpu::runKernel(call);
    return call.outputs;
}

Tensor runOne(Op op, const Attributes& attrs, const std::vector<Tensor>& inputs, const Shape& outShape) {
    auto outs = runOp(op, attrs, inputs, {outShape});
    if (outs.size() != 1) qFatal("expected one output");
    return outs[0];
}

}  // namespace adj::test
