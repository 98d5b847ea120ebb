// CPU kernels of elementwise ops and the reductions over them (unary, binary, where, sum, mean,
// max, softmax) against naive reference loops written here, each with rows whose inputs are
// non-contiguous (transposed storage, sliced with step and offset, stride-0 broadcast).
#include <tbb/global_control.h>

#include <QString>
#include <QStringList>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "base/errors.h"
#include "ir/graph.h"
#include "kernel_test_support.h"
#include "runtime/cpu/cpu_kernels.h"

using namespace adj;
using namespace adj::test;

namespace {

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

}  // namespace

class TestCpuKernelsElementwise : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void unary_data();
    void unary();
    void binary_data();
    void binary();
    void where_data();
    void where();
    void reduce_data();
    void reduce();
    void reduceMaxPropagatesNaN();
    void reduceBitIdenticalAcrossThreads();
    void softmax_data();
    void softmax();
};

void TestCpuKernelsElementwise::unary_data() {
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

void TestCpuKernelsElementwise::unary() {
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

void TestCpuKernelsElementwise::binary_data() {
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

void TestCpuKernelsElementwise::binary() {
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

void TestCpuKernelsElementwise::where_data() {
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

void TestCpuKernelsElementwise::where() {
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

void TestCpuKernelsElementwise::reduce_data() {
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

void TestCpuKernelsElementwise::reduce() {
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

void TestCpuKernelsElementwise::reduceMaxPropagatesNaN() {
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

void TestCpuKernelsElementwise::reduceBitIdenticalAcrossThreads() {
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

void TestCpuKernelsElementwise::softmax_data() {
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

void TestCpuKernelsElementwise::softmax() {
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

QTEST_APPLESS_MAIN(TestCpuKernelsElementwise)
#include "tst_cpu_kernels_elementwise.moc"
