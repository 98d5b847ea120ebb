// CPU kernels of movement ops (reshape, flatten, squeeze, unsqueeze, transpose, expand, slice,
// concat, split) against naive reference loops written here, each with rows whose inputs are
// non-contiguous (transposed storage, sliced with step and offset, stride-0 broadcast).
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

class TestCpuKernelsMovement : public QObject {
    Q_OBJECT

private Q_SLOTS:
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
};

void TestCpuKernelsMovement::reshapeFamily_data() {
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

void TestCpuKernelsMovement::reshapeFamily() {
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

void TestCpuKernelsMovement::transpose_data() {
    QTest::addColumn<QString>("shape");
    QTest::addColumn<QString>("perm");  // "none": absent (reverse)
    QTest::addColumn<int>("layout");
    QTest::addRow("reverse") << "2x3x4" << "none" << int(Contiguous);
    QTest::addRow("perm") << "2x3x4" << "1,2,0" << int(Contiguous);
    QTest::addRow("perm transposed") << "2x3x4" << "0,2,1" << int(Transposed);
    QTest::addRow("negative perm stepped") << "2x3x4" << "-1,0,1" << int(Stepped);
    QTest::addRow("stride0") << "3x4" << "none" << int(Broadcast);
}

void TestCpuKernelsMovement::transpose() {
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

void TestCpuKernelsMovement::expand() {
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

void TestCpuKernelsMovement::slice_data() {
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

void TestCpuKernelsMovement::slice() {
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

void TestCpuKernelsMovement::sliceNegativeStepThrows() {
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

void TestCpuKernelsMovement::concat_data() {
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

void TestCpuKernelsMovement::concat() {
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

void TestCpuKernelsMovement::split_data() {
    QTest::addColumn<QString>("shape");
    QTest::addColumn<int>("axis");
    QTest::addColumn<QString>("sizes");
    QTest::addColumn<int>("layout");
    QTest::addRow("axis 0") << "6x3" << 0 << "2,4" << int(Contiguous);
    QTest::addRow("axis 1 transposed") << "3x7" << 1 << "3,0,4" << int(Transposed);
    QTest::addRow("negative axis stepped") << "2x3x5" << -1 << "1,1,3" << int(Stepped);
    QTest::addRow("stride0") << "4x6" << 0 << "1,3" << int(Broadcast);
}

void TestCpuKernelsMovement::split() {
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

QTEST_APPLESS_MAIN(TestCpuKernelsMovement)
#include "tst_cpu_kernels_movement.moc"
