// The packed GEMM (engine/runtime/cpu/gemm_packed.h) against a double-precision reference, over
// sizes that exercise every edge (partial micro-tiles, partial K blocks, leading dimensions wider
// than the matrix), and its determinism.
#include <QtTest>
#include <array>
#include <cmath>
#include <vector>

#include "runtime/cpu/gemm_packed.h"

using namespace adj;

class TestGemmPacked : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesReference_data();
    void matchesReference();
    void deterministic();
};

void TestGemmPacked::matchesReference_data() {
    QTest::addColumn<int>("M");
    QTest::addColumn<int>("N");
    QTest::addColumn<int>("K");
    QTest::addColumn<int>("pad");
    for (auto [m, n, k, pad] : std::vector<std::array<int, 4>>{{1, 1, 1, 0}, {6, 16, 8, 0}, {7, 17, 3, 2}, {5, 33, 257, 1}, {73, 530, 300, 3},
                                                               {64, 256, 784, 0}, {150, 10, 520, 5}, {3, 4, 0, 0}})
        QTest::addRow("%dx%dx%d+%d", m, n, k, pad) << m << n << k << pad;
}

void TestGemmPacked::matchesReference() {
    QFETCH(int, M);
    QFETCH(int, N);
    QFETCH(int, K);
    QFETCH(int, pad);
    const int lda = K + pad, ldb = N + pad, ldc = N + pad;
    std::vector<float> A(std::size_t(M * lda + 1)), B(std::size_t(std::max(1, K) * ldb)), C(std::size_t(M * ldc), 7.0f);
    for (std::size_t i = 0; i < A.size(); ++i) A[i] = float(std::sin(double(i) * 0.37));
    for (std::size_t i = 0; i < B.size(); ++i) B[i] = float(std::cos(double(i) * 0.11));
    cpu::gemmPacked(M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc);
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            double ref = 0, mag = 0;
            for (int k = 0; k < K; ++k) {
                ref += double(A[std::size_t(i * lda + k)]) * double(B[std::size_t(k * ldb + j)]);
                mag += std::abs(double(A[std::size_t(i * lda + k)]) * double(B[std::size_t(k * ldb + j)]));
            }
            const float got = C[std::size_t(i * ldc + j)];
            if (std::abs(got - ref) > 1e-5 * mag + 1e-6) QFAIL(qPrintable(QString("C[%1,%2] = %3, expected %4").arg(i).arg(j).arg(got).arg(ref)));
        }
    for (int i = 0; i < M; ++i)
        for (int j = N; j < ldc; ++j) QCOMPARE(C[std::size_t(i * ldc + j)], 7.0f);  // padding untouched
}

void TestGemmPacked::deterministic() {
    const int M = 200, N = 300, K = 600;
    std::vector<float> A(std::size_t(M * K)), B(std::size_t(K * N)), C1(std::size_t(M * N)), C2(std::size_t(M * N));
    for (std::size_t i = 0; i < A.size(); ++i) A[i] = float(std::sin(double(i)));
    for (std::size_t i = 0; i < B.size(); ++i) B[i] = float(std::cos(double(i)));
    cpu::gemmPacked(M, N, K, A.data(), K, B.data(), N, C1.data(), N);
    cpu::gemmPacked(M, N, K, A.data(), K, B.data(), N, C2.data(), N);
    QVERIFY(C1 == C2);
    qInfo("micro-kernel: %s", cpu::gemmPackedKernelName().c_str());
}

QTEST_APPLESS_MAIN(TestGemmPacked)
#include "tst_gemm_packed.moc"
