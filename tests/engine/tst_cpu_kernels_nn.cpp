// CPU kernels of the neural-network ops (matmul, gemm, conv2d, pooling, batchnorm, layernorm)
// against naive reference loops written here, each with rows whose inputs are non-contiguous
// (transposed storage, sliced with step and offset, stride-0 broadcast); and kernel errors that
// name the node.
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

class TestCpuKernelsNn : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void matmul_data();
    void matmul();
    void gemm_data();
    void gemm();
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

void TestCpuKernelsNn::matmul_data() {
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

void TestCpuKernelsNn::matmul() {
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

void TestCpuKernelsNn::gemm_data() {
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

void TestCpuKernelsNn::gemm() {
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

void TestCpuKernelsNn::conv2d_data() {
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

void TestCpuKernelsNn::conv2d() {
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

void TestCpuKernelsNn::pool_data() {
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

void TestCpuKernelsNn::pool() {
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

void TestCpuKernelsNn::globalAvgPool_data() {
    QTest::addColumn<QString>("xShape");
    QTest::addColumn<int>("layout");
    QTest::addRow("4d") << "2x3x4x5" << int(Contiguous);
    QTest::addRow("4d transposed") << "2x3x4x5" << int(Transposed);
    QTest::addRow("3d stepped") << "2x3x7" << int(Stepped);
    QTest::addRow("stride0") << "3x2x4x4" << int(Broadcast);
}

void TestCpuKernelsNn::globalAvgPool() {
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

void TestCpuKernelsNn::batchnorm_data() {
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

void TestCpuKernelsNn::batchnorm() {
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

void TestCpuKernelsNn::layernorm_data() {
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

void TestCpuKernelsNn::layernorm() {
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

void TestCpuKernelsNn::errorsNameTheNode() {
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

QTEST_APPLESS_MAIN(TestCpuKernelsNn)
#include "tst_cpu_kernels_nn.moc"
