// Tensor views: strides, offsets and shared storage; contiguous() copies only when needed.
#include <QtTest>

#include "tensor/tensor.h"

using namespace adj;

namespace {
Tensor iota(const Shape& s) {
    std::vector<float> v(std::size_t(numel(s)));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = float(i);
    return Tensor::fromVector(s, v);
}
}  // namespace

class TestTensor : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void contiguousStridesAreRowMajor() {
        Tensor t = Tensor::zeros({2, 3, 4});
        QCOMPARE(t.strides(), (Strides{12, 4, 1}));
        QVERIFY(t.isContiguous());
        QCOMPARE(t.numel(), std::int64_t(24));
    }
    void scalarHasRankZero() {
        Tensor s = Tensor::scalar(3.5f);
        QCOMPARE(s.rank(), std::int64_t(0));
        QCOMPARE(s.numel(), std::int64_t(1));
        QCOMPARE(s.flatAt(0), 3.5f);
    }
    void transposeIsAViewWithSwappedStrides() {
        Tensor t = iota({2, 3});
        Tensor tt = t.transpose(0, 1);
        QVERIFY(tt.sharesStorageWith(t));
        QCOMPARE(tt.shape(), (Shape{3, 2}));
        QCOMPARE(tt.strides(), (Strides{1, 3}));
        QVERIFY(!tt.isContiguous());
        QCOMPARE(tt.at({2, 1}), 5.f);
        QCOMPARE(tt.toVector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    }
    void permuteRejectsNonPermutations() {
        Tensor t = iota({2, 3, 4});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, t.permute({0, 0, 1}));
        Tensor p = t.permute({2, 0, 1});
        QCOMPARE(p.shape(), (Shape{4, 2, 3}));
        QCOMPARE(p.at({3, 1, 2}), t.at({1, 2, 3}));
    }
    void sliceWithStepHasOffsetAndStride() {
        Tensor t = iota({10});
        Tensor s = t.slice(0, 1, 9, 3);  // 1, 4, 7
        QVERIFY(s.sharesStorageWith(t));
        QCOMPARE(s.shape(), (Shape{3}));
        QCOMPARE(s.strides(), (Strides{3}));
        QCOMPARE(s.offset(), std::int64_t(1));
        QCOMPARE(s.toVector(), (std::vector<float>{1, 4, 7}));
    }
    void sliceClampsAndAcceptsNegativeBounds() {
        Tensor t = iota({5});
        QCOMPARE(t.slice(0, -2, 100).toVector(), (std::vector<float>{3, 4}));
        QCOMPARE(t.slice(0, 4, 2).numel(), std::int64_t(0));
    }
    void expandUsesStrideZero() {
        Tensor t = iota({3, 1});
        Tensor e = t.expand({2, 3, 4});
        QVERIFY(e.sharesStorageWith(t));
        QCOMPARE(e.strides(), (Strides{0, 1, 0}));
        QCOMPARE(e.at({1, 2, 3}), 2.f);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, t.expand({2, 4}));
    }
    void squeezeAndUnsqueeze() {
        Tensor t = iota({2, 1, 3});
        Tensor s = t.squeeze(1);
        QCOMPARE(s.shape(), (Shape{2, 3}));
        QVERIFY(s.sharesStorageWith(t));
        Tensor u = s.unsqueeze(0);
        QCOMPARE(u.shape(), (Shape{1, 2, 3}));
        QCOMPARE(u.at({0, 1, 2}), 5.f);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, t.squeeze(0));
    }
    void reshapeIsAViewWhenStridesAllow_data() {
        QTest::addColumn<bool>("transposeFirst");
        QTest::addColumn<bool>("expectView");
        QTest::newRow("contiguous") << false << true;
        QTest::newRow("transposed") << true << false;
    }
    void reshapeIsAViewWhenStridesAllow() {
        QFETCH(bool, transposeFirst);
        QFETCH(bool, expectView);
        Tensor t = iota({4, 6});
        Tensor src = transposeFirst ? t.transpose(0, 1) : t;
        Tensor r = src.reshape({2, 12});
        QCOMPARE(r.sharesStorageWith(t), expectView);
        QCOMPARE(r.toVector(), src.toVector());
    }
    void viewOfSlicedRowsMergesInnerDims() {
        // rows 0 and 2 of a [4, 2, 3] tensor: dims 1 and 2 stay contiguous among themselves
        Tensor t = iota({4, 2, 3});
        Tensor s = t.slice(0, 0, 4, 2);
        Tensor v = s.viewAs({2, 6});
        QVERIFY(v.defined());
        QCOMPARE(v.strides(), (Strides{12, 1}));
        QCOMPARE(v.toVector(), s.toVector());
        QVERIFY(!s.viewAs({12}).defined());  // rows are not adjacent
        QCOMPARE(s.reshape({12}).toVector(), s.toVector());
    }
    void reshapeRejectsWrongCount() {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, iota({2, 3}).reshape({4}));
    }
    void contiguousCopiesOnlyWhenNeeded() {
        Tensor t = iota({3, 4});
        QVERIFY(t.contiguous().sharesStorageWith(t));
        Tensor tt = t.transpose(0, 1);
        Tensor c = tt.contiguous();
        QVERIFY(!c.sharesStorageWith(t));
        QVERIFY(c.isContiguous());
        QCOMPARE(c.toVector(), tt.toVector());
        // a size-1 dimension with an odd stride is still contiguous
        Tensor row = t.slice(0, 1, 2);
        QVERIFY(row.isContiguous());
        QVERIFY(row.contiguous().sharesStorageWith(t));
    }
    void copyFromWritesThroughAView() {
        Tensor t = Tensor::zeros({3, 3});
        Tensor diagLike = t.slice(1, 0, 3, 2);  // columns 0 and 2
        diagLike.copyFrom(Tensor::full({3, 2}, 7.f));
        QCOMPARE(t.toVector(), (std::vector<float>{7, 0, 7, 7, 0, 7, 7, 0, 7}));
    }
    void forEachOffsetVisitsInRowMajorOrder() {
        Tensor t = iota({2, 3}).transpose(0, 1);  // [3, 2]
        std::vector<float> seen;
        forEachOffset(t.shape(), t.strides(), [&](std::int64_t, std::int64_t off) { seen.push_back(t.data()[off]); });
        QCOMPARE(seen, t.toVector());
    }
    void absurdShapesAreRefused() {
        QVERIFY_THROWS_EXCEPTION(std::length_error, Tensor::zeros({std::int64_t(1) << 40}));
        QVERIFY_THROWS_EXCEPTION(std::length_error, Tensor::zeros({-3}));
        QVERIFY(!shapeIsSane({1 << 20, 1 << 20, 1 << 20}));
        // empty, but its strides would overflow (found by the .npy fuzzer)
        QVERIFY(!shapeIsSane({0, 10000000100, 650477, 3334, 3}));
        QVERIFY(shapeIsSane({0, 1 << 20, 1 << 10}));
        QVERIFY(shapeIsSane({0}));
    }
    void broadcastingRule() {
        Shape out;
        QVERIFY(broadcastShapes({3, 1, 4}, {2, 4}, out));
        QCOMPARE(out, (Shape{3, 2, 4}));
        QVERIFY(!broadcastShapes({3}, {4}, out));
        QVERIFY(broadcastShapes({}, {5}, out));
        QCOMPARE(out, (Shape{5}));
    }
};

QTEST_APPLESS_MAIN(TestTensor)
#include "tst_tensor.moc"
