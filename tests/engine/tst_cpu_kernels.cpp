// CPU kernels against naive reference loops written here, for every op family, each with rows
// whose inputs are non-contiguous (transposed storage, sliced with step and offset, stride-0
// broadcast).
#include <tbb/global_control.h>

#include <QString>
#include <QStringList>
#include <QTest>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "base/errors.h"
#include "ir/graph.h"
#include "runtime/cpu/cpu_kernels.h"
#include "test_support.h"

using namespace adj;

namespace {

using Index = std::vector<std::int64_t>;

/// "2x3x4" -> {2, 3, 4}; "" -> {} (a scalar).
Shape parseShape(const QString& s) {
    Shape out;
    if (s.isEmpty()) return out;
    for (const QString& part : s.split('x')) out.push_back(part.toLongLong());
    return out;
}

/// "0,-1,2" -> {0, -1, 2}; "" -> {}. "max"/"min" stand for INT64_MAX / INT64_MIN.
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

struct Rng {
    std::uint32_t state;
    float next(float lo, float hi) {
        state = state * 1664525u + 1013904223u;
        return lo + (hi - lo) * float(state >> 8) / float(1u << 24);
    }
};

Tensor randomTensor(const Shape& s, Rng& rng, float lo, float hi, bool integers) {
    std::vector<float> v(std::size_t(numel(s)));
    for (float& x : v) x = integers ? std::round(rng.next(lo, hi)) : rng.next(lo, hi);
    return Tensor::fromVector(s, v);
}

enum Layout { Contiguous = 0, Transposed = 1, Stepped = 2, Broadcast = 3 };

/// A tensor of shape `s` with random values in [lo, hi), laid out as `layout` says:
/// Transposed: stored in reversed axis order (a permute view); Stepped: every other element of a
/// larger tensor, starting at a non-zero offset; Broadcast: axis 0 has stride 0. With `integers`
/// the values are rounded (so that comparisons see ties and zeros).
Tensor makeInput(const Shape& s, int layout, std::uint32_t seed, float lo = -2.f, float hi = 2.f, bool integers = false) {
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

/// Element of t at a multi-index, through its strides.
float get(const Tensor& t, const Index& idx) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
    return t.data()[off];
}

/// The index into a tensor of shape `s` that broadcasting maps the output index to.
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

double refUnary(Op op, double x) {
    switch (op) {
    case Op::Neg: return -x;
    case Op::Abs: return std::fabs(x);
    case Op::Exp: return std::exp(x);
    case Op::Log: return std::log(x);
    case Op::Sqrt: return std::sqrt(x);
    case Op::Sin: return std::sin(x);
    case Op::Cos: return std::cos(x);
    case Op::Tanh: return std::tanh(x);
    case Op::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case Op::Relu: return x > 0 ? x : 0;
    case Op::Gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Op::Erf: return std::erf(x);
    case Op::Sign: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    default: qFatal("not unary"); return 0;
    }
}

double refBinary(Op op, double a, double b) {
    switch (op) {
    case Op::Add: return a + b;
    case Op::Sub: return a - b;
    case Op::Mul: return a * b;
    case Op::Div: return a / b;
    case Op::Pow: return std::pow(a, b);
    case Op::Maximum: return std::max(a, b);
    case Op::Minimum: return std::min(a, b);
    case Op::Greater: return a > b ? 1 : 0;
    case Op::Equal: return a == b ? 1 : 0;
    default: qFatal("not binary"); return 0;
    }
}

#define CHECK_CLOSE(got, want, rtol, atol)                                      \
    do {                                                                        \
        std::string why_;                                                       \
        QVERIFY2(test::allClose((got), (want), (rtol), (atol), &why_), why_.c_str()); \
    } while (0)

template <class F>
Tensor tensorFrom(const Shape& s, F f) {
    Tensor t = Tensor::empty(s);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = float(f(unravel(i, s)));
    return t;
}

}  // namespace

class TestCpuKernels : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void unary_data();
    void unary();
    void binary_data();
    void binary();
    void where_data();
    void where();
    void matmul_data();
    void matmul();
    void gemm_data();
    void gemm();
    void reduce_data();
    void reduce();
    void reduceMaxPropagatesNaN();
    void reduceBitIdenticalAcrossThreads();
    void softmax_data();
    void softmax();
    void reshapeFamily_data();
    void reshapeFamily();
    void transpose_data();
    void transpose();
    void expand();
    void slice_data();
    void slice();
    void sliceNegativeStepThrows();
    void concat_data();
    void concat();
    void split_data();
    void split();
    void conv2d_data();
    void conv2d();
    void pool_data();
    void pool();
    void globalAvgPool_data();
    void globalAvgPool();
    void batchnorm_data();
    void batchnorm();
    void layernorm_data();
    void layernorm();
    void errorsNameTheNode();
};

// ---------------------------------------------------------------- elementwise

void TestCpuKernels::unary_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("shape");
    QTest::addColumn<int>("layout");
    const QStringList ops{"neg", "abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "gelu", "erf", "sign"};
    for (const QString& op : ops) {
        QTest::addRow("%s contiguous", qPrintable(op)) << op << "3x5" << int(Contiguous);
        QTest::addRow("%s transposed", qPrintable(op)) << op << "2x3x4" << int(Transposed);
        QTest::addRow("%s stepped", qPrintable(op)) << op << "4x3" << int(Stepped);
        QTest::addRow("%s broadcast", qPrintable(op)) << op << "3x4" << int(Broadcast);
    }
    QTest::addRow("exp scalar") << "exp" << "" << int(Contiguous);
    QTest::addRow("tanh large transposed") << "tanh" << "300x200" << int(Transposed);
    QTest::addRow("relu large contiguous") << "relu" << "300x200" << int(Contiguous);
    QTest::addRow("sigmoid large stepped") << "sigmoid" << "40x30x40" << int(Stepped);
    QTest::addRow("neg empty") << "neg" << "0x3" << int(Contiguous);
}

void TestCpuKernels::unary() {
    QFETCH(QString, op);
    QFETCH(QString, shape);
    QFETCH(int, layout);
    const Op o = opNamed(op);
    const Shape s = parseShape(shape);
    const bool positive = o == Op::Log || o == Op::Sqrt;
    const Tensor x = makeInput(s, layout, 1, positive ? 0.1f : -3.f, 3.f, o == Op::Sign);
    if (layout != Contiguous && numel(s) > 1) QVERIFY(!x.isContiguous());
    const Tensor y = runOne(o, {}, {x}, s);
    const Tensor want = tensorFrom(s, [&](const Index& i) { return refUnary(o, get(x, i)); });
    CHECK_CLOSE(y, want, 1e-5, 1e-6);
}

void TestCpuKernels::binary_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("shapeA");
    QTest::addColumn<QString>("shapeB");
    QTest::addColumn<int>("layoutA");
    QTest::addColumn<int>("layoutB");
    const QStringList ops{"add", "sub", "mul", "div", "pow", "maximum", "minimum", "greater", "equal"};
    for (const QString& op : ops) {
        QTest::addRow("%s same", qPrintable(op)) << op << "3x4" << "3x4" << int(Contiguous) << int(Contiguous);
        QTest::addRow("%s row broadcast", qPrintable(op)) << op << "2x3x4" << "4" << int(Contiguous) << int(Contiguous);
        QTest::addRow("%s outer broadcast", qPrintable(op)) << op << "3x1" << "1x4" << int(Contiguous) << int(Contiguous);
        QTest::addRow("%s transposed x stepped", qPrintable(op)) << op << "4x5" << "4x5" << int(Transposed) << int(Stepped);
        QTest::addRow("%s stride0 x transposed broadcast", qPrintable(op))
            << op << "3x4x5" << "4x1" << int(Broadcast) << int(Transposed);
        QTest::addRow("%s scalar", qPrintable(op)) << op << "2x3" << "" << int(Stepped) << int(Contiguous);
    }
    QTest::addRow("add large mixed") << "add" << "200x300" << "300" << int(Transposed) << int(Stepped);
    QTest::addRow("mul large broadcast both") << "mul" << "64x1x32" << "1x40x32" << int(Stepped) << int(Contiguous);
    QTest::addRow("sub scalars") << "sub" << "" << "" << int(Contiguous) << int(Contiguous);
    // fast paths: a [K, n] tangent times an [n] value (broadcast along the leading axis), a value
    // per row (broadcast along the last axis, both orders), odd sizes, rows that are not contiguous
    QTest::addRow("mul leading broadcast large") << "mul" << "300x1000" << "1000" << int(Contiguous) << int(Contiguous);
    QTest::addRow("mul leading broadcast stepped") << "mul" << "37x129" << "129" << int(Stepped) << int(Contiguous);
    QTest::addRow("div trailing broadcast") << "div" << "37x129" << "37x1" << int(Contiguous) << int(Contiguous);
    QTest::addRow("sub trailing broadcast first") << "sub" << "129x1" << "129x37" << int(Contiguous) << int(Transposed);
    QTest::addRow("add trailing broadcast large") << "add" << "513x257" << "513x1" << int(Transposed) << int(Stepped);
    QTest::addRow("maximum odd") << "maximum" << "7x13" << "13" << int(Stepped) << int(Stepped);
}

void TestCpuKernels::binary() {
    QFETCH(QString, op);
    QFETCH(QString, shapeA);
    QFETCH(QString, shapeB);
    QFETCH(int, layoutA);
    QFETCH(int, layoutB);
    const Op o = opNamed(op);
    const Shape sa = parseShape(shapeA), sb = parseShape(shapeB);
    Shape so;
    QVERIFY(broadcastShapes(sa, sb, so));
    const bool positiveA = o == Op::Pow;
    const bool ties = o == Op::Greater || o == Op::Equal || o == Op::Maximum || o == Op::Minimum;
    const Tensor a = makeInput(sa, layoutA, 2, positiveA ? 0.2f : -3.f, 3.f, ties);
    const Tensor b = makeInput(sb, layoutB, 3, o == Op::Div ? 0.5f : -3.f, 3.f, ties);
    const Tensor y = runOne(o, {}, {a, b}, so);
    const Tensor want = tensorFrom(so, [&](const Index& i) {
        return refBinary(o, get(a, broadcastIndex(i, sa)), get(b, broadcastIndex(i, sb)));
    });
    CHECK_CLOSE(y, want, 1e-5, 1e-6);
}

void TestCpuKernels::where_data() {
    QTest::addColumn<QString>("shapeC");
    QTest::addColumn<QString>("shapeA");
    QTest::addColumn<QString>("shapeB");
    QTest::addColumn<int>("layout");
    QTest::addRow("same") << "3x4" << "3x4" << "3x4" << int(Contiguous);
    QTest::addRow("broadcast") << "3x1" << "4" << "" << int(Contiguous);
    QTest::addRow("transposed") << "4x5" << "4x5" << "5" << int(Transposed);
    QTest::addRow("stepped") << "2x3x4" << "3x4" << "2x1x4" << int(Stepped);
    QTest::addRow("stride0") << "3x4" << "3x4" << "3x4" << int(Broadcast);
}

void TestCpuKernels::where() {
    QFETCH(QString, shapeC);
    QFETCH(QString, shapeA);
    QFETCH(QString, shapeB);
    QFETCH(int, layout);
    const Shape sc = parseShape(shapeC), sa = parseShape(shapeA), sb = parseShape(shapeB);
    Shape t, so;
    QVERIFY(broadcastShapes(sc, sa, t));
    QVERIFY(broadcastShapes(t, sb, so));
    Tensor c = makeInput(sc, layout, 4, -1.f, 1.f);
    // Make the condition a mix of exact zeros and non-zeros.
    {
        Tensor cc = c.clone();
        for (std::int64_t i = 0; i < cc.numel(); ++i) cc.data()[i] = cc.data()[i] > 0 ? 0.f : cc.data()[i];
        Tensor target = c;
        if (layout == Broadcast) c = cc;  // a stride-0 view cannot be written element by element
        else target.copyFrom(cc);
    }
    const Tensor a = makeInput(sa, layout, 5), b = makeInput(sb, layout, 6);
    const Tensor y = runOne(Op::Where, {}, {c, a, b}, so);
    const Tensor want = tensorFrom(so, [&](const Index& i) {
        return get(c, broadcastIndex(i, sc)) != 0.f ? get(a, broadcastIndex(i, sa)) : get(b, broadcastIndex(i, sb));
    });
    CHECK_CLOSE(y, want, 0, 0);
}

// ---------------------------------------------------------------- matmul, gemm

void TestCpuKernels::matmul_data() {
    QTest::addColumn<QString>("shapeA");
    QTest::addColumn<QString>("shapeB");
    QTest::addColumn<QString>("outShape");
    QTest::addColumn<int>("layout");
    QTest::addRow("2d") << "3x4" << "4x5" << "3x5" << int(Contiguous);
    QTest::addRow("2d transposed") << "3x4" << "4x5" << "3x5" << int(Transposed);
    QTest::addRow("2d stepped") << "3x4" << "4x5" << "3x5" << int(Stepped);
    QTest::addRow("vec x mat") << "4" << "4x5" << "5" << int(Contiguous);
    QTest::addRow("mat x vec stepped") << "3x4" << "4" << "3" << int(Stepped);
    QTest::addRow("vec x vec") << "4" << "4" << "" << int(Contiguous);
    QTest::addRow("batched") << "2x3x4" << "4x5" << "2x3x5" << int(Transposed);
    QTest::addRow("batch broadcast") << "2x1x3x4" << "3x4x2" << "2x3x3x2" << int(Stepped);
    QTest::addRow("batch stride0") << "5x3x4" << "5x4x2" << "5x3x2" << int(Broadcast);
    QTest::addRow("vec x batch") << "4" << "2x4x3" << "2x3" << int(Contiguous);
    QTest::addRow("large blocks") << "70x300" << "300x290" << "70x290" << int(Contiguous);
    QTest::addRow("large transposed") << "33x150" << "150x270" << "33x270" << int(Transposed);
    QTest::addRow("empty k") << "3x0" << "0x2" << "3x2" << int(Contiguous);
}

void TestCpuKernels::matmul() {
    QFETCH(QString, shapeA);
    QFETCH(QString, shapeB);
    QFETCH(QString, outShape);
    QFETCH(int, layout);
    const Shape sa = parseShape(shapeA), sb = parseShape(shapeB), so = parseShape(outShape);
    const Tensor a = makeInput(sa, layout, 7), b = makeInput(sb, layout, 8);
    const Tensor y = runOne(Op::MatMul, {}, {a, b}, so);
    // Reference: promote to >= 2-D, broadcast the batch dims, then drop the added dims.
    Tensor a2 = sa.size() == 1 ? a.unsqueeze(0) : a;
    Tensor b2 = sb.size() == 1 ? b.unsqueeze(1) : b;
    const std::int64_t M = a2.dim(-2), K = a2.dim(-1), N = b2.dim(-1);
    Shape batch;
    QVERIFY(broadcastShapes(Shape(a2.shape().begin(), a2.shape().end() - 2), Shape(b2.shape().begin(), b2.shape().end() - 2), batch));
    Shape full = batch;
    full.push_back(M);
    full.push_back(N);
    QCOMPARE(numel(full), numel(so));
    Shape ea = batch, eb = batch;
    ea.insert(ea.end(), {M, K});
    eb.insert(eb.end(), {K, N});
    a2 = a2.expand(ea);
    b2 = b2.expand(eb);
    Tensor want = tensorFrom(full, [&](const Index& i) {
        Index ia(i.begin(), i.end() - 2), ib = ia;
        ia.push_back(i[i.size() - 2]);
        ia.push_back(0);
        ib.push_back(0);
        ib.push_back(i.back());
        double s = 0;
        for (std::int64_t k = 0; k < K; ++k) {
            ia.back() = k;
            ib[ib.size() - 2] = k;
            s += double(get(a2, ia)) * get(b2, ib);
        }
        return s;
    });
    CHECK_CLOSE(y, want.reshape(so), 1e-4, 1e-4);
}

void TestCpuKernels::gemm_data() {
    QTest::addColumn<QString>("shapeA");
    QTest::addColumn<QString>("shapeB");
    QTest::addColumn<QString>("shapeC");  // "none": no C
    QTest::addColumn<int>("transA");
    QTest::addColumn<int>("transB");
    QTest::addColumn<double>("alpha");
    QTest::addColumn<double>("beta");
    QTest::addColumn<int>("layout");
    QTest::addRow("plain") << "3x4" << "4x5" << "none" << 0 << 0 << 1.0 << 1.0 << int(Contiguous);
    QTest::addRow("bias row") << "3x4" << "4x5" << "5" << 0 << 0 << 1.0 << 1.0 << int(Contiguous);
    QTest::addRow("transA transB alpha beta") << "4x3" << "5x4" << "3x5" << 1 << 1 << 0.5 << 2.0 << int(Contiguous);
    QTest::addRow("transB transposed") << "3x4" << "5x4" << "1x5" << 0 << 1 << 1.0 << 1.0 << int(Transposed);
    QTest::addRow("transA stepped col bias") << "4x3" << "4x5" << "3x1" << 1 << 0 << 1.5 << -1.0 << int(Stepped);
    QTest::addRow("stride0 scalar C") << "3x4" << "4x5" << "" << 0 << 0 << 1.0 << 0.5 << int(Broadcast);
    QTest::addRow("beta zero") << "3x4" << "4x5" << "3x5" << 0 << 0 << 1.0 << 0.0 << int(Contiguous);
    QTest::addRow("large") << "130x64" << "200x64" << "200" << 0 << 1 << 1.0 << 1.0 << int(Transposed);
}

void TestCpuKernels::gemm() {
    QFETCH(QString, shapeA);
    QFETCH(QString, shapeB);
    QFETCH(QString, shapeC);
    QFETCH(int, transA);
    QFETCH(int, transB);
    QFETCH(double, alpha);
    QFETCH(double, beta);
    QFETCH(int, layout);
    const Tensor a = makeInput(parseShape(shapeA), layout, 9), b = makeInput(parseShape(shapeB), layout, 10);
    const bool hasC = shapeC != "none";
    const Shape sc = hasC ? parseShape(shapeC) : Shape{};
    const Tensor c = hasC ? makeInput(sc, layout == Broadcast && sc.empty() ? Contiguous : layout, 11) : Tensor();
    const Tensor at = transA ? a.transpose(0, 1) : a, bt = transB ? b.transpose(0, 1) : b;
    const std::int64_t M = at.dim(0), K = at.dim(1), N = bt.dim(1);
    Attributes attrs{{"alpha", alpha}, {"beta", beta}, {"transA", std::int64_t(transA)}, {"transB", std::int64_t(transB)}};
    std::vector<Tensor> ins{a, b};
    if (hasC) ins.push_back(c);
    const Tensor y = runOne(Op::Gemm, attrs, ins, {M, N});
    const Tensor want = tensorFrom({M, N}, [&](const Index& i) {
        double s = 0;
        for (std::int64_t k = 0; k < K; ++k) s += double(get(at, {i[0], k})) * get(bt, {k, i[1]});
        s *= alpha;
        if (hasC) s += beta * get(c, broadcastIndex(i, sc));
        return s;
    });
    CHECK_CLOSE(y, want, 1e-4, 1e-4);
}

// ---------------------------------------------------------------- reductions

void TestCpuKernels::reduce_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("shape");
    QTest::addColumn<QString>("axes");  // "all": attribute absent
    QTest::addColumn<int>("keepdims");
    QTest::addColumn<int>("layout");
    for (const QString op : {"sum", "mean", "max"}) {
        QTest::addRow("%s all", qPrintable(op)) << op << "3x4" << "all" << 0 << int(Contiguous);
        QTest::addRow("%s all keepdims", qPrintable(op)) << op << "3x4" << "all" << 1 << int(Transposed);
        QTest::addRow("%s last", qPrintable(op)) << op << "2x3x4" << "-1" << 0 << int(Contiguous);
        QTest::addRow("%s first transposed", qPrintable(op)) << op << "2x3x4" << "0" << 0 << int(Transposed);
        QTest::addRow("%s middle keepdims stepped", qPrintable(op)) << op << "2x3x4" << "1" << 1 << int(Stepped);
        QTest::addRow("%s two axes", qPrintable(op)) << op << "2x3x4x5" << "0,2" << 0 << int(Stepped);
        QTest::addRow("%s negative axes keepdims", qPrintable(op)) << op << "2x3x4" << "-1,-3" << 1 << int(Transposed);
        QTest::addRow("%s stride0", qPrintable(op)) << op << "3x4" << "0" << 0 << int(Broadcast);
        QTest::addRow("%s large all", qPrintable(op)) << op << "300x400" << "all" << 0 << int(Transposed);
        QTest::addRow("%s large rows", qPrintable(op)) << op << "300x400" << "1" << 0 << int(Stepped);
        QTest::addRow("%s large cols", qPrintable(op)) << op << "300x400" << "0" << 1 << int(Contiguous);
        QTest::addRow("%s scalar", qPrintable(op)) << op << "" << "all" << 0 << int(Contiguous);
        // fast paths: columns (leading axes, kept part contiguous), long rows split in fixed
        // blocks, odd sizes, size-1 axes reduced
        QTest::addRow("%s leading axes", qPrintable(op)) << op << "5x7x301" << "0,1" << 0 << int(Contiguous);
        QTest::addRow("%s leading axes keepdims odd", qPrintable(op)) << op << "1001x3" << "0" << 1 << int(Contiguous);
        QTest::addRow("%s leading stepped", qPrintable(op)) << op << "6x200" << "0" << 0 << int(Stepped);
        QTest::addRow("%s leading stride0", qPrintable(op)) << op << "40x1" << "0" << 0 << int(Broadcast);
        QTest::addRow("%s long row", qPrintable(op)) << op << "70001" << "all" << 0 << int(Contiguous);
        QTest::addRow("%s long rows", qPrintable(op)) << op << "3x40001" << "1" << 0 << int(Contiguous);
        QTest::addRow("%s size-1 axis", qPrintable(op)) << op << "5x1x7" << "1" << 0 << int(Contiguous);
        QTest::addRow("%s middle axes", qPrintable(op)) << op << "4x5x6x7" << "1,2" << 0 << int(Contiguous);
    }
}

void TestCpuKernels::reduce() {
    QFETCH(QString, op);
    QFETCH(QString, shape);
    QFETCH(QString, axes);
    QFETCH(int, keepdims);
    QFETCH(int, layout);
    const Op o = opNamed(op);
    const Shape s = parseShape(shape);
    const Tensor x = makeInput(s, layout, 12);
    std::vector<bool> red(s.size(), axes == "all");
    Attributes attrs{{"keepdims", std::int64_t(keepdims)}};
    if (axes != "all") {
        auto ax = parseInts(axes);
        attrs.set("axes", ax);
        for (auto a : ax) red[std::size_t(a < 0 ? a + std::int64_t(s.size()) : a)] = true;
    }
    Shape outKeep, outShape;
    for (std::size_t d = 0; d < s.size(); ++d) {
        outKeep.push_back(red[d] ? 1 : s[d]);
        if (!red[d] || keepdims) outShape.push_back(red[d] ? 1 : s[d]);
    }
    const Tensor y = runOne(o, attrs, {x}, outShape);
    QCOMPARE(y.shape(), outShape);
    std::vector<double> acc(std::size_t(numel(outKeep)), o == Op::Max ? -INFINITY : 0.0);
    std::int64_t count = 0;
    for (std::int64_t i = 0; i < numel(s); ++i) {
        Index idx = unravel(i, s), oidx = idx;
        for (std::size_t d = 0; d < s.size(); ++d)
            if (red[d]) oidx[d] = 0;
        std::int64_t flat = 0;
        for (std::size_t d = 0; d < s.size(); ++d) flat = flat * outKeep[d] + oidx[d];
        if (flat == 0) ++count;
        const double v = get(x, idx);
        double& a = acc[std::size_t(flat)];
        a = o == Op::Max ? std::max(a, v) : a + v;
    }
    std::vector<float> w;
    for (double a : acc) w.push_back(float(o == Op::Mean ? a / double(count) : a));
    CHECK_CLOSE(y, Tensor::fromVector(outShape, w), 1e-5, 1e-4);
}

void TestCpuKernels::reduceMaxPropagatesNaN() {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const Tensor x = Tensor::fromVector({2, 3}, {1.f, nan, 3.f, 4.f, 5.f, 6.f});
    const Tensor rows = runOne(Op::Max, {{"axes", std::vector<std::int64_t>{1}}}, {x}, {2});
    QVERIFY(std::isnan(rows.flatAt(0)));
    QCOMPARE(rows.flatAt(1), 6.f);
    const Tensor all = runOne(Op::Max, {}, {x}, {});
    QVERIFY(std::isnan(all.flatAt(0)));
    Tensor big = Tensor::full({100000}, 1.f);
    big.data()[77777] = nan;
    QVERIFY(std::isnan(runOne(Op::Max, {}, {big}, {}).flatAt(0)));
}

void TestCpuKernels::reduceBitIdenticalAcrossThreads() {
    // sums of long rows and of columns must not depend on how TBB splits the work (training
    // determinism depends on it)
    Rng rng{42};
    const Tensor big = randomTensor({1, 300001}, rng, -1.f, 1.f, false);
    const Tensor tall = randomTensor({20001, 33}, rng, -1.f, 1.f, false);
    auto run = [&] {
        std::vector<float> r;
        for (Op o : {Op::Sum, Op::Mean}) {
            r.push_back(runOne(o, {}, {big}, {}).flatAt(0));
            const Tensor cols = runOne(o, {{"axes", std::vector<std::int64_t>{0}}}, {tall}, {33});
            for (std::int64_t j = 0; j < 33; ++j) r.push_back(cols.flatAt(j));
        }
        return r;
    };
    const std::vector<float> two = run(), again = run();
    std::vector<float> one;
    {
        tbb::global_control serial(tbb::global_control::max_allowed_parallelism, 1);
        one = run();
    }
    QCOMPARE(again, two);
    QCOMPARE(one, two);
}

void TestCpuKernels::softmax_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("shape");
    QTest::addColumn<int>("axis");
    QTest::addColumn<int>("layout");
    QTest::addColumn<float>("scale");
    for (const QString op : {"softmax", "log_softmax"}) {
        QTest::addRow("%s last", qPrintable(op)) << op << "3x5" << -1 << int(Contiguous) << 1.f;
        QTest::addRow("%s first transposed", qPrintable(op)) << op << "3x5" << 0 << int(Transposed) << 1.f;
        QTest::addRow("%s middle stepped", qPrintable(op)) << op << "2x4x3" << 1 << int(Stepped) << 1.f;
        QTest::addRow("%s stride0", qPrintable(op)) << op << "3x4" << 1 << int(Broadcast) << 1.f;
        QTest::addRow("%s stride0 along axis", qPrintable(op)) << op << "3x4" << 0 << int(Broadcast) << 1.f;
        QTest::addRow("%s large logits", qPrintable(op)) << op << "4x6" << -1 << int(Contiguous) << 500.f;
        QTest::addRow("%s large", qPrintable(op)) << op << "500x100" << -1 << int(Transposed) << 1.f;
    }
}

void TestCpuKernels::softmax() {
    QFETCH(QString, op);
    QFETCH(QString, shape);
    QFETCH(int, axis);
    QFETCH(int, layout);
    QFETCH(float, scale);
    const Op o = opNamed(op);
    const Shape s = parseShape(shape);
    const Tensor x = makeInput(s, layout, 13, -2.f * scale, 2.f * scale);
    const Tensor y = runOne(o, {{"axis", std::int64_t(axis)}}, {x}, s);
    const std::size_t ax = std::size_t(axis < 0 ? axis + std::int64_t(s.size()) : axis);
    const Tensor want = tensorFrom(s, [&](const Index& i) {
        Index j = i;
        double m = -INFINITY;
        for (j[ax] = 0; j[ax] < s[ax]; ++j[ax]) m = std::max(m, double(get(x, j)));
        double sum = 0;
        for (j[ax] = 0; j[ax] < s[ax]; ++j[ax]) sum += std::exp(double(get(x, j)) - m);
        const double v = double(get(x, i)) - m;
        return o == Op::Softmax ? std::exp(v) / sum : v - std::log(sum);
    });
    CHECK_CLOSE(y, want, 1e-5, 1e-6);
}

// ---------------------------------------------------------------- movement

void TestCpuKernels::reshapeFamily_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("inShape");
    QTest::addColumn<QString>("outShape");
    QTest::addColumn<int>("layout");
    QTest::addColumn<bool>("expectView");
    QTest::addRow("reshape view") << "reshape" << "2x3x4" << "6x4" << int(Contiguous) << true;
    QTest::addRow("reshape transposed copies") << "reshape" << "2x3x4" << "24" << int(Transposed) << false;
    QTest::addRow("reshape stepped merges nothing") << "reshape" << "3x4" << "12" << int(Stepped) << false;
    QTest::addRow("reshape stepped split axis view") << "reshape" << "4x6" << "4x2x3" << int(Stepped) << true;
    QTest::addRow("flatten view") << "flatten" << "2x3x4" << "2x12" << int(Contiguous) << true;
    QTest::addRow("flatten transposed") << "flatten" << "2x3x4" << "2x12" << int(Transposed) << false;
    QTest::addRow("squeeze stepped") << "squeeze" << "3x1x4" << "3x4" << int(Stepped) << true;
    QTest::addRow("unsqueeze transposed") << "unsqueeze" << "3x4" << "3x1x4x1" << int(Transposed) << true;
    QTest::addRow("unsqueeze stride0") << "unsqueeze" << "3x4" << "1x3x4" << int(Broadcast) << true;
}

void TestCpuKernels::reshapeFamily() {
    QFETCH(QString, op);
    QFETCH(QString, inShape);
    QFETCH(QString, outShape);
    QFETCH(int, layout);
    QFETCH(bool, expectView);
    const Op o = opNamed(op);
    const Shape si = parseShape(inShape), so = parseShape(outShape);
    const Tensor x = makeInput(si, layout, 14);
    Attributes attrs;
    if (o == Op::Reshape) attrs.set("shape", std::vector<std::int64_t>(so.begin(), so.end()));
    if (o == Op::Unsqueeze) attrs.set("axes", std::vector<std::int64_t>{0});  // the kernel follows outTypes
    const Tensor y = runOne(o, attrs, {x}, so);
    QCOMPARE(y.shape(), so);
    QCOMPARE(y.sharesStorageWith(x), expectView);
    QVERIFY(y.toVector() == x.toVector());
}

void TestCpuKernels::transpose_data() {
    QTest::addColumn<QString>("shape");
    QTest::addColumn<QString>("perm");  // "none": absent (reverse)
    QTest::addColumn<int>("layout");
    QTest::addRow("reverse") << "2x3x4" << "none" << int(Contiguous);
    QTest::addRow("perm") << "2x3x4" << "1,2,0" << int(Contiguous);
    QTest::addRow("perm transposed") << "2x3x4" << "0,2,1" << int(Transposed);
    QTest::addRow("negative perm stepped") << "2x3x4" << "-1,0,1" << int(Stepped);
    QTest::addRow("stride0") << "3x4" << "none" << int(Broadcast);
}

void TestCpuKernels::transpose() {
    QFETCH(QString, shape);
    QFETCH(QString, perm);
    QFETCH(int, layout);
    const Shape s = parseShape(shape);
    const Tensor x = makeInput(s, layout, 15);
    std::vector<std::int64_t> p(s.size());
    Attributes attrs;
    if (perm == "none") {
        std::iota(p.rbegin(), p.rend(), std::int64_t(0));
    } else {
        p = parseInts(perm);
        attrs.set("perm", p);
        for (auto& v : p)
            if (v < 0) v += std::int64_t(s.size());
    }
    Shape so;
    for (auto v : p) so.push_back(s[std::size_t(v)]);
    const Tensor y = runOne(Op::Transpose, attrs, {x}, so);
    QVERIFY(y.sharesStorageWith(x));
    const Tensor want = tensorFrom(so, [&](const Index& i) {
        Index j(s.size());
        for (std::size_t d = 0; d < p.size(); ++d) j[std::size_t(p[d])] = i[d];
        return get(x, j);
    });
    CHECK_CLOSE(y, want, 0, 0);
}

void TestCpuKernels::expand() {
    for (int layout : {int(Contiguous), int(Stepped), int(Transposed)}) {
        const Tensor x = makeInput({3, 1}, layout, 16);
        const Shape so{2, 3, 4};
        const Tensor y = runOne(Op::Expand, {{"shape", std::vector<std::int64_t>{2, 1, 4}}}, {x}, so);
        QVERIFY(y.sharesStorageWith(x));
        const Tensor want = tensorFrom(so, [&](const Index& i) { return get(x, {i[1], 0}); });
        CHECK_CLOSE(y, want, 0, 0);
    }
    // A stride-0 input expanded further.
    const Tensor x = makeInput({3, 4}, Broadcast, 17);
    const Tensor y = runOne(Op::Expand, {{"shape", std::vector<std::int64_t>{2, 3, 4}}}, {x}, {2, 3, 4});
    const Tensor want = tensorFrom({2, 3, 4}, [&](const Index& i) { return get(x, {i[1], i[2]}); });
    CHECK_CLOSE(y, want, 0, 0);
}

void TestCpuKernels::slice_data() {
    QTest::addColumn<QString>("shape");
    QTest::addColumn<QString>("starts");
    QTest::addColumn<QString>("ends");
    QTest::addColumn<QString>("axes");   // "none": absent
    QTest::addColumn<QString>("steps");  // "none": absent
    QTest::addColumn<QString>("outShape");
    QTest::addColumn<int>("layout");
    QTest::addRow("basic") << "5x6" << "1,2" << "4,5" << "none" << "none" << "3x3" << int(Contiguous);
    QTest::addRow("one axis") << "5x6" << "1" << "3" << "1" << "none" << "5x2" << int(Transposed);
    QTest::addRow("negative indices") << "5x6" << "-3" << "-1" << "0" << "none" << "2x6" << int(Stepped);
    QTest::addRow("huge end") << "5x6" << "2" << "max" << "-1" << "none" << "5x4" << int(Contiguous);
    QTest::addRow("huge negative start") << "5x6" << "min" << "2" << "0" << "none" << "2x6" << int(Transposed);
    QTest::addRow("steps") << "7x6" << "0,1" << "max,max" << "0,1" << "3,2" << "3x3" << int(Stepped);
    QTest::addRow("step past end") << "7x6" << "1" << "100" << "0" << "4" << "2x6" << int(Contiguous);
    QTest::addRow("empty") << "5x6" << "4" << "2" << "0" << "none" << "0x6" << int(Contiguous);
    QTest::addRow("start past end clamps") << "5x6" << "10" << "20" << "1" << "none" << "5x0" << int(Stepped);
    QTest::addRow("stride0") << "4x6" << "1,0" << "3,6" << "none" << "1,2" << "2x3" << int(Broadcast);
    QTest::addRow("3d axes out of order") << "3x4x5" << "1,0" << "5,2" << "2,0" << "2,1" << "2x4x2" << int(Transposed);
}

void TestCpuKernels::slice() {
    QFETCH(QString, shape);
    QFETCH(QString, starts);
    QFETCH(QString, ends);
    QFETCH(QString, axes);
    QFETCH(QString, steps);
    QFETCH(QString, outShape);
    QFETCH(int, layout);
    const Shape s = parseShape(shape), so = parseShape(outShape);
    const Tensor x = makeInput(s, layout, 18);
    const auto st = parseInts(starts), en = parseInts(ends);
    std::vector<std::int64_t> ax(st.size()), sp(st.size(), 1);
    std::iota(ax.begin(), ax.end(), std::int64_t(0));
    Attributes attrs{{"starts", st}, {"ends", en}};
    if (axes != "none") {
        ax = parseInts(axes);
        attrs.set("axes", ax);
    }
    if (steps != "none") {
        sp = parseInts(steps);
        attrs.set("steps", sp);
    }
    const Tensor y = runOne(Op::Slice, attrs, {x}, so);
    QCOMPARE(y.shape(), so);
    QVERIFY(y.sharesStorageWith(x));
    // Reference: the first selected index and the step per axis.
    Index first(s.size(), 0), step(s.size(), 1);
    for (std::size_t i = 0; i < st.size(); ++i) {
        const std::size_t a = std::size_t(ax[i] < 0 ? ax[i] + std::int64_t(s.size()) : ax[i]);
        std::int64_t b = st[i];
        if (b < 0) b = std::max<std::int64_t>(0, b + s[a]);
        first[a] = std::min(b, s[a]);
        step[a] = sp[i];
    }
    const Tensor want = tensorFrom(so, [&](const Index& i) {
        Index j(s.size());
        for (std::size_t d = 0; d < s.size(); ++d) j[d] = first[d] + i[d] * step[d];
        return get(x, j);
    });
    CHECK_CLOSE(y, want, 0, 0);
}

void TestCpuKernels::sliceNegativeStepThrows() {
    const Tensor x = makeInput({5}, Contiguous, 19);
    Attributes attrs{{"starts", std::vector<std::int64_t>{4}}, {"ends", std::vector<std::int64_t>{0}},
                     {"steps", std::vector<std::int64_t>{-1}}};
    try {
        runOne(Op::Slice, attrs, {x}, {4});
        QFAIL("no error");
    } catch (const Error& e) {
        const QString msg = QString::fromStdString(e.what());
        QVERIFY2(msg.contains("node 't' (slice)") && msg.contains("negative steps are not supported"), e.what());
    }
}

void TestCpuKernels::concat_data() {
    QTest::addColumn<QString>("shapes");  // ";"-separated
    QTest::addColumn<int>("axis");
    QTest::addColumn<int>("layout");
    QTest::addRow("axis 0") << "2x3;4x3" << 0 << int(Contiguous);
    QTest::addRow("axis 1 transposed") << "2x3;2x1;2x4" << 1 << int(Transposed);
    QTest::addRow("negative axis stepped") << "2x3x2;2x3x5" << -1 << int(Stepped);
    QTest::addRow("middle stride0") << "2x3x4;2x1x4;2x2x4" << 1 << int(Broadcast);
    QTest::addRow("with empty") << "2x3;0x3;1x3" << 0 << int(Stepped);
    QTest::addRow("large") << "200x100;200x150" << 1 << int(Transposed);
}

void TestCpuKernels::concat() {
    QFETCH(QString, shapes);
    QFETCH(int, axis);
    QFETCH(int, layout);
    std::vector<Tensor> ins;
    std::uint32_t seed = 20;
    for (const QString& sh : shapes.split(';')) ins.push_back(makeInput(parseShape(sh), layout, seed++));
    const std::size_t ax = std::size_t(axis < 0 ? axis + ins[0].rank() : axis);
    Shape so = ins[0].shape();
    so[ax] = 0;
    for (const auto& t : ins) so[ax] += t.shape()[ax];
    const Tensor y = runOne(Op::Concat, {{"axis", std::int64_t(axis)}}, ins, so);
    const Tensor want = tensorFrom(so, [&](const Index& i) {
        Index j = i;
        for (const auto& t : ins) {
            if (j[ax] < t.shape()[ax]) return get(t, j);
            j[ax] -= t.shape()[ax];
        }
        return std::nanf("");
    });
    CHECK_CLOSE(y, want, 0, 0);
}

void TestCpuKernels::split_data() {
    QTest::addColumn<QString>("shape");
    QTest::addColumn<int>("axis");
    QTest::addColumn<QString>("sizes");
    QTest::addColumn<int>("layout");
    QTest::addRow("axis 0") << "6x3" << 0 << "2,4" << int(Contiguous);
    QTest::addRow("axis 1 transposed") << "3x7" << 1 << "3,0,4" << int(Transposed);
    QTest::addRow("negative axis stepped") << "2x3x5" << -1 << "1,1,3" << int(Stepped);
    QTest::addRow("stride0") << "4x6" << 0 << "1,3" << int(Broadcast);
}

void TestCpuKernels::split() {
    QFETCH(QString, shape);
    QFETCH(int, axis);
    QFETCH(QString, sizes);
    QFETCH(int, layout);
    const Shape s = parseShape(shape);
    const Tensor x = makeInput(s, layout, 30);
    const auto sz = parseInts(sizes);
    const std::size_t ax = std::size_t(axis < 0 ? axis + std::int64_t(s.size()) : axis);
    std::vector<Shape> outShapes;
    for (auto v : sz) {
        Shape o = s;
        o[ax] = v;
        outShapes.push_back(o);
    }
    const auto outs = runOp(Op::Split, {{"axis", std::int64_t(axis)}, {"sizes", sz}}, {x}, outShapes);
    QCOMPARE(outs.size(), sz.size());
    std::int64_t pos = 0;
    for (std::size_t k = 0; k < outs.size(); ++k) {
        QCOMPARE(outs[k].shape(), outShapes[k]);
        QVERIFY(outs[k].sharesStorageWith(x));
        const Tensor want = tensorFrom(outShapes[k], [&](const Index& i) {
            Index j = i;
            j[ax] += pos;
            return get(x, j);
        });
        CHECK_CLOSE(outs[k], want, 0, 0);
        pos += sz[k];
    }
}

// ---------------------------------------------------------------- conv, pool

void TestCpuKernels::conv2d_data() {
    QTest::addColumn<QString>("xShape");
    QTest::addColumn<QString>("wShape");
    QTest::addColumn<QString>("strides");
    QTest::addColumn<QString>("pads");
    QTest::addColumn<QString>("dilations");
    QTest::addColumn<int>("group");
    QTest::addColumn<bool>("bias");
    QTest::addColumn<int>("layout");
    QTest::addRow("3x3 plain") << "1x2x5x5" << "3x2x3x3" << "1,1" << "0,0,0,0" << "1,1" << 1 << false << int(Contiguous);
    QTest::addRow("3x3 pad bias") << "2x3x6x5" << "4x3x3x3" << "1,1" << "1,1,1,1" << "1,1" << 1 << true << int(Contiguous);
    QTest::addRow("stride asym pads transposed")
        << "2x3x7x6" << "4x3x3x2" << "2,1" << "1,0,2,1" << "1,1" << 1 << true << int(Transposed);
    QTest::addRow("dilation stepped") << "1x2x9x8" << "2x2x3x3" << "1,2" << "2,1,0,1" << "2,3" << 1 << true << int(Stepped);
    QTest::addRow("groups") << "2x4x5x5" << "6x2x3x3" << "1,1" << "1,1,1,1" << "1,1" << 2 << true << int(Transposed);
    QTest::addRow("depthwise stride0") << "3x4x5x5" << "4x1x3x3" << "2,2" << "1,1,1,1" << "1,1" << 4 << true << int(Broadcast);
    QTest::addRow("pointwise") << "2x5x4x3" << "3x5x1x1" << "1,1" << "0,0,0,0" << "1,1" << 1 << true << int(Contiguous);
    QTest::addRow("pointwise stepped") << "2x5x4x3" << "3x5x1x1" << "1,1" << "0,0,0,0" << "1,1" << 1 << false << int(Stepped);
    QTest::addRow("large") << "2x16x20x20" << "32x16x3x3" << "1,1" << "1,1,1,1" << "1,1" << 1 << true << int(Transposed);
}

void TestCpuKernels::conv2d() {
    QFETCH(QString, xShape);
    QFETCH(QString, wShape);
    QFETCH(QString, strides);
    QFETCH(QString, pads);
    QFETCH(QString, dilations);
    QFETCH(int, group);
    QFETCH(bool, bias);
    QFETCH(int, layout);
    const Shape sx = parseShape(xShape), sw = parseShape(wShape);
    const auto st = parseInts(strides), pd = parseInts(pads), dl = parseInts(dilations);
    const Tensor x = makeInput(sx, layout, 40);
    const Tensor w = makeInput(sw, layout == Broadcast ? Stepped : layout, 41);
    const Tensor b = makeInput({sw[0]}, layout == Broadcast ? Stepped : layout, 42);
    const std::int64_t N = sx[0], Cout = sw[0], Cg = sw[1], kh = sw[2], kw = sw[3];
    const std::int64_t OH = (sx[2] + pd[0] + pd[2] - dl[0] * (kh - 1) - 1) / st[0] + 1;
    const std::int64_t OW = (sx[3] + pd[1] + pd[3] - dl[1] * (kw - 1) - 1) / st[1] + 1;
    const Shape so{N, Cout, OH, OW};
    Attributes attrs{{"strides", st}, {"pads", pd}, {"dilations", dl}, {"group", std::int64_t(group)}};
    std::vector<Tensor> ins{x, w};
    if (bias) ins.push_back(b);
    const Tensor y = runOne(Op::Conv2d, attrs, ins, so);
    const std::int64_t coutg = Cout / group;
    const Tensor want = tensorFrom(so, [&](const Index& i) {
        const std::int64_t n = i[0], co = i[1], g = co / coutg;
        double s = bias ? get(b, {co}) : 0.0;
        for (std::int64_t ci = 0; ci < Cg; ++ci)
            for (std::int64_t ki = 0; ki < kh; ++ki)
                for (std::int64_t kj = 0; kj < kw; ++kj) {
                    const std::int64_t ih = i[2] * st[0] - pd[0] + ki * dl[0], iw = i[3] * st[1] - pd[1] + kj * dl[1];
                    if (ih < 0 || ih >= sx[2] || iw < 0 || iw >= sx[3]) continue;
                    s += double(get(x, {n, g * Cg + ci, ih, iw})) * get(w, {co, ci, ki, kj});
                }
        return s;
    });
    CHECK_CLOSE(y, want, 1e-4, 1e-4);
}

void TestCpuKernels::pool_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("xShape");
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<QString>("strides");  // "none": absent (1, 1)
    QTest::addColumn<QString>("pads");
    QTest::addColumn<int>("includePad");
    QTest::addColumn<int>("layout");
    for (const QString op : {"max_pool", "avg_pool"}) {
        QTest::addRow("%s 2x2 s2", qPrintable(op)) << op << "1x2x4x6" << "2,2" << "2,2" << "0,0,0,0" << 0 << int(Contiguous);
        QTest::addRow("%s default strides", qPrintable(op)) << op << "2x2x5x4" << "3,2" << "none" << "0,0,0,0" << 0 << int(Transposed);
        QTest::addRow("%s pads", qPrintable(op)) << op << "2x3x5x5" << "3,3" << "2,2" << "1,1,1,1" << 0 << int(Stepped);
        QTest::addRow("%s asym pads include", qPrintable(op))
            << op << "1x2x6x5" << "3,2" << "2,1" << "1,0,1,1" << 1 << int(Transposed);
        QTest::addRow("%s stride0", qPrintable(op)) << op << "3x2x5x5" << "2,2" << "1,1" << "1,1,0,0" << 0 << int(Broadcast);
        QTest::addRow("%s large", qPrintable(op)) << op << "4x16x32x32" << "3,3" << "2,2" << "1,1,1,1" << 0 << int(Stepped);
    }
}

void TestCpuKernels::pool() {
    QFETCH(QString, op);
    QFETCH(QString, xShape);
    QFETCH(QString, kernel);
    QFETCH(QString, strides);
    QFETCH(QString, pads);
    QFETCH(int, includePad);
    QFETCH(int, layout);
    const Op o = opNamed(op);
    const Shape sx = parseShape(xShape);
    const auto k = parseInts(kernel), pd = parseInts(pads);
    const auto st = strides == "none" ? std::vector<std::int64_t>{1, 1} : parseInts(strides);
    const Tensor x = makeInput(sx, layout, 50);
    Attributes attrs{{"kernel", k}, {"pads", pd}};
    if (strides != "none") attrs.set("strides", st);
    if (o == Op::AvgPool) attrs.set("count_include_pad", std::int64_t(includePad));
    const std::int64_t OH = (sx[2] + pd[0] + pd[2] - k[0]) / st[0] + 1, OW = (sx[3] + pd[1] + pd[3] - k[1]) / st[1] + 1;
    const Shape so{sx[0], sx[1], OH, OW};
    const Tensor y = runOne(o, attrs, {x}, so);
    const Tensor want = tensorFrom(so, [&](const Index& i) {
        double m = -INFINITY, s = 0;
        std::int64_t count = 0;
        for (std::int64_t a = 0; a < k[0]; ++a)
            for (std::int64_t b = 0; b < k[1]; ++b) {
                const std::int64_t h = i[2] * st[0] - pd[0] + a, w = i[3] * st[1] - pd[1] + b;
                if (h < 0 || h >= sx[2] || w < 0 || w >= sx[3]) continue;
                const double v = get(x, {i[0], i[1], h, w});
                m = std::max(m, v);
                s += v;
                ++count;
            }
        if (o == Op::MaxPool) return m;
        return s / double(includePad ? k[0] * k[1] : count);
    });
    CHECK_CLOSE(y, want, 1e-5, 1e-6);
}

void TestCpuKernels::globalAvgPool_data() {
    QTest::addColumn<QString>("xShape");
    QTest::addColumn<int>("layout");
    QTest::addRow("4d") << "2x3x4x5" << int(Contiguous);
    QTest::addRow("4d transposed") << "2x3x4x5" << int(Transposed);
    QTest::addRow("3d stepped") << "2x3x7" << int(Stepped);
    QTest::addRow("stride0") << "3x2x4x4" << int(Broadcast);
}

void TestCpuKernels::globalAvgPool() {
    QFETCH(QString, xShape);
    QFETCH(int, layout);
    const Shape sx = parseShape(xShape);
    const Tensor x = makeInput(sx, layout, 60);
    Shape so(sx.size(), 1);
    so[0] = sx[0];
    so[1] = sx[1];
    const Tensor y = runOne(Op::GlobalAvgPool, {}, {x}, so);
    const std::int64_t S = numel(sx) / (sx[0] * sx[1]);
    std::vector<double> acc(std::size_t(sx[0] * sx[1]), 0.0);
    for (std::int64_t i = 0; i < numel(sx); ++i) {
        const Index idx = unravel(i, sx);
        acc[std::size_t(idx[0] * sx[1] + idx[1])] += get(x, idx);
    }
    std::vector<float> w;
    for (double a : acc) w.push_back(float(a / double(S)));
    CHECK_CLOSE(y, Tensor::fromVector(so, w), 1e-5, 1e-6);
}

// ---------------------------------------------------------------- normalization

void TestCpuKernels::batchnorm_data() {
    QTest::addColumn<QString>("xShape");
    QTest::addColumn<int>("training");
    QTest::addColumn<int>("layout");
    for (int training : {0, 1}) {
        const char* mode = training ? "training" : "inference";
        QTest::addRow("%s 4d", mode) << "2x3x4x5" << training << int(Contiguous);
        QTest::addRow("%s 2d transposed", mode) << "5x3" << training << int(Transposed);
        QTest::addRow("%s 4d transposed", mode) << "2x3x4x5" << training << int(Transposed);
        QTest::addRow("%s 3d stepped", mode) << "3x4x6" << training << int(Stepped);
        QTest::addRow("%s stride0", mode) << "4x3x5x2" << training << int(Broadcast);
        QTest::addRow("%s large", mode) << "8x16x16x16" << training << int(Stepped);
    }
}

void TestCpuKernels::batchnorm() {
    QFETCH(QString, xShape);
    QFETCH(int, training);
    QFETCH(int, layout);
    const Shape sx = parseShape(xShape);
    const std::int64_t C = sx[1];
    const Tensor x = makeInput(sx, layout, 70, -3.f, 5.f);
    const int vl = layout == Broadcast ? Stepped : layout;
    const Tensor scale = makeInput({C}, vl, 71), bias = makeInput({C}, vl, 72), mean = makeInput({C}, vl, 73),
                 var = makeInput({C}, vl, 74, 0.5f, 2.f);
    const double eps = 1e-3;
    const Tensor y = runOne(Op::BatchNorm, {{"epsilon", eps}, {"training", std::int64_t(training)}}, {x, scale, bias, mean, var}, sx);
    std::vector<double> m{}, v{};
    m.resize(std::size_t(C));
    v.resize(std::size_t(C));
    for (std::int64_t c = 0; c < C; ++c) {
        m[std::size_t(c)] = get(mean, {c});
        v[std::size_t(c)] = get(var, {c});
    }
    if (training) {
        std::vector<double> s(std::size_t(C), 0), q(std::size_t(C), 0);
        const double count = double(numel(sx) / C);
        for (std::int64_t i = 0; i < numel(sx); ++i) {
            const Index idx = unravel(i, sx);
            s[std::size_t(idx[1])] += get(x, idx);
        }
        for (std::int64_t c = 0; c < C; ++c) m[std::size_t(c)] = s[std::size_t(c)] / count;
        for (std::int64_t i = 0; i < numel(sx); ++i) {
            const Index idx = unravel(i, sx);
            const double d = get(x, idx) - m[std::size_t(idx[1])];
            q[std::size_t(idx[1])] += d * d;
        }
        for (std::int64_t c = 0; c < C; ++c) v[std::size_t(c)] = q[std::size_t(c)] / count;
    }
    const Tensor want = tensorFrom(sx, [&](const Index& i) {
        const std::size_t c = std::size_t(i[1]);
        return (get(x, i) - m[c]) / std::sqrt(v[c] + eps) * get(scale, {i[1]}) + get(bias, {i[1]});
    });
    CHECK_CLOSE(y, want, 1e-4, 1e-5);
}

void TestCpuKernels::layernorm_data() {
    QTest::addColumn<QString>("xShape");
    QTest::addColumn<int>("axis");
    QTest::addColumn<int>("affine");  // 0 none, 1 scale, 2 scale and bias
    QTest::addColumn<int>("layout");
    QTest::addRow("last") << "3x8" << -1 << 2 << int(Contiguous);
    QTest::addRow("last no affine") << "3x8" << -1 << 0 << int(Contiguous);
    QTest::addRow("two axes transposed") << "2x3x4" << 1 << 2 << int(Transposed);
    QTest::addRow("scale only stepped") << "4x5" << 1 << 1 << int(Stepped);
    QTest::addRow("all axes") << "3x4" << 0 << 2 << int(Transposed);
    QTest::addRow("stride0") << "3x4x5" << -1 << 2 << int(Broadcast);
    QTest::addRow("large") << "300x256" << -1 << 2 << int(Transposed);
}

void TestCpuKernels::layernorm() {
    QFETCH(QString, xShape);
    QFETCH(int, axis);
    QFETCH(int, affine);
    QFETCH(int, layout);
    const Shape sx = parseShape(xShape);
    const std::size_t ax = std::size_t(axis < 0 ? axis + std::int64_t(sx.size()) : axis);
    const Shape ns(sx.begin() + std::int64_t(ax), sx.end());
    const Tensor x = makeInput(sx, layout, 80, -2.f, 4.f);
    const int al = layout == Broadcast ? Stepped : layout;
    const Tensor scale = makeInput(ns, al, 81), bias = makeInput(ns, al, 82);
    std::vector<Tensor> ins{x};
    if (affine >= 1) ins.push_back(scale);
    if (affine >= 2) ins.push_back(bias);
    const double eps = 1e-5;
    const Tensor y = runOne(Op::LayerNorm, {{"axis", std::int64_t(axis)}, {"epsilon", eps}}, ins, sx);
    const Tensor want = tensorFrom(sx, [&](const Index& i) {
        // Statistics over the trailing axes at the same leading index.
        const std::int64_t D = numel(ns);
        double s = 0, q = 0;
        Index j = i;
        for (std::int64_t t = 0; t < D; ++t) {
            const Index tail = unravel(t, ns);
            std::copy(tail.begin(), tail.end(), j.begin() + std::int64_t(ax));
            s += get(x, j);
        }
        const double m = s / double(D);
        for (std::int64_t t = 0; t < D; ++t) {
            const Index tail = unravel(t, ns);
            std::copy(tail.begin(), tail.end(), j.begin() + std::int64_t(ax));
            q += (get(x, j) - m) * (get(x, j) - m);
        }
        const Index tail(i.begin() + std::int64_t(ax), i.end());
        double v = (get(x, i) - m) / std::sqrt(q / double(D) + eps);
        if (affine >= 1) v *= get(scale, tail);
        if (affine >= 2) v += get(bias, tail);
        return v;
    });
    CHECK_CLOSE(y, want, 1e-4, 1e-5);
}

// ---------------------------------------------------------------- errors

void TestCpuKernels::errorsNameTheNode() {
    auto expectError = [](Op op, const Attributes& attrs, const std::vector<Tensor>& ins, const Shape& out, const char* needle) {
        try {
            runOne(op, attrs, ins, out);
        } catch (const Error& e) {
            const std::string prefix = "node 't' (" + std::string(opName(op)) + "): ";
            const std::string msg = e.what();
            return msg.rfind(prefix, 0) == 0 && msg.find(needle) != std::string::npos;
        }
        return false;
    };
    QVERIFY(expectError(Op::MatMul, {}, {Tensor::zeros({2, 3}), Tensor::zeros({4, 5})}, {2, 5}, "inner dimensions"));
    QVERIFY(expectError(Op::MatMul, {}, {Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 4})}, {3, 2, 4}, "batch"));
    QVERIFY(expectError(Op::Add, {}, {Tensor::zeros({2, 3}), Tensor::zeros({4})}, {2, 3}, "broadcast"));
    QVERIFY(expectError(Op::Conv2d, {{"group", std::int64_t(2)}}, {Tensor::zeros({1, 3, 4, 4}), Tensor::zeros({2, 3, 1, 1})},
                        {1, 2, 4, 4}, "group"));
    QVERIFY(expectError(Op::Sum, {{"axes", std::vector<std::int64_t>{3}}}, {Tensor::zeros({2, 3})}, {2}, "out of range"));
    QVERIFY(expectError(Op::Reshape, {{"shape", std::vector<std::int64_t>{5}}}, {Tensor::zeros({2, 3})}, {5}, "reshape"));
    QVERIFY(expectError(Op::Split, {{"axis", std::int64_t(0)}, {"sizes", std::vector<std::int64_t>{1, 1}}}, {Tensor::zeros({3})},
                        {1}, "sizes"));
    QVERIFY(expectError(Op::MaxPool, {{"kernel", std::vector<std::int64_t>{5, 5}}}, {Tensor::zeros({1, 1, 3, 3})}, {1, 1, 1, 1},
                        "larger"));
    QVERIFY(expectError(Op::Concat, {{"axis", std::int64_t(0)}}, {Tensor::zeros({2, 3}), Tensor::zeros({2, 4})}, {4, 3},
                        "does not fit"));
    QVERIFY(expectError(Op::Exp, {}, {}, {1}, "inputs"));
    // Missing required attribute.
    QVERIFY(expectError(Op::Slice, {}, {Tensor::zeros({3})}, {3}, "starts"));
    // Sources belong to the executor.
    Node n;
    n.op = Op::Input;
    n.name = "t";
    cpu::KernelCall call{n, {}, {ValueType{{1}, DType::F32}}, {}};
    QVERIFY_THROWS_EXCEPTION(std::logic_error, cpu::runKernel(call));
}

QTEST_APPLESS_MAIN(TestCpuKernels)
#include "tst_cpu_kernels.moc"
