// The packed GEMM (engine/runtime/cpu/gemm_packed.h) against a double-precision reference, over
// sizes that exercise every edge (partial micro-tiles, partial K blocks, leading dimensions wider
// than the matrix), and its determinism.
#include <tbb/global_control.h>

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
    void stridedEveryKernel_data();
    void stridedEveryKernel();
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

void TestGemmPacked::stridedEveryKernel_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<int>("M");
    QTest::addColumn<int>("N");
    QTest::addColumn<int>("K");
    QTest::addColumn<bool>("transA");
    QTest::addColumn<bool>("transB");
    // partial micro-tiles of both kernel shapes (6x16, 8x32), k = 1, m = 1, several KC/MC blocks,
    // N <= 16 (the narrow kernel) and the MLP's backward shapes
    const std::vector<std::array<int, 3>> sizes{{1, 1, 1},   {1, 70, 5},   {9, 1, 33},   {8, 32, 1},    {13, 37, 1},   {17, 45, 300},
                                                {130, 70, 520}, {64, 10, 256}, {256, 10, 64}, {784, 256, 64}, {64, 784, 256},
                                                {15, 16, 40},   {700, 10, 300}, {9, 3, 2}};
    for (const auto& kernel : cpu::gemmAvailableKernels())
        for (auto [m, n, k] : sizes)
            for (int t = 0; t < 4 && (kernel != "avx512-narrow" || n <= 16); ++t)
                QTest::addRow("%s %dx%dx%d%s%s", kernel.c_str(), m, n, k, t & 1 ? " A^T" : "", t & 2 ? " B^T" : "")
                    << QString::fromStdString(kernel) << m << n << k << bool(t & 1) << bool(t & 2);
}

void TestGemmPacked::stridedEveryKernel() {
    QFETCH(QString, kernel);
    QFETCH(int, M);
    QFETCH(int, N);
    QFETCH(int, K);
    QFETCH(bool, transA);
    QFETCH(bool, transB);
    // A stored as [M, K] or [K, M] (then read transposed), B as [K, N] or [N, K], each with a row
    // pitch wider than the matrix
    const int ldA = (transA ? M : K) + 3, ldB = (transB ? K : N) + 1, ldc = N + 2;
    std::vector<float> a(std::size_t((transA ? K : M) * ldA)), b(std::size_t((transB ? N : K) * ldB));
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(std::sin(double(i) * 0.37));
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = float(std::cos(double(i) * 0.11));
    const std::int64_t rsA = transA ? 1 : ldA, csA = transA ? ldA : 1, rsB = transB ? 1 : ldB, csB = transB ? ldB : 1;
    std::vector<float> C(std::size_t(M * ldc), 7.0f);
    cpu::gemmStridedWith(kernel.toStdString(), M, N, K, a.data(), rsA, csA, b.data(), rsB, csB, C.data(), ldc);
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            double ref = 0, mag = 0;
            for (int k = 0; k < K; ++k) {
                const double p = double(a[std::size_t(i * rsA + k * csA)]) * double(b[std::size_t(k * rsB + j * csB)]);
                ref += p;
                mag += std::abs(p);
            }
            const float got = C[std::size_t(i * ldc + j)];
            if (std::abs(got - ref) > 1e-5 * mag + 1e-6) QFAIL(qPrintable(QString("C[%1,%2] = %3, expected %4").arg(i).arg(j).arg(got).arg(ref)));
        }
    for (int i = 0; i < M; ++i)
        for (int j = N; j < ldc; ++j) QCOMPARE(C[std::size_t(i * ldc + j)], 7.0f);
    if (kernel == "avx512-narrow") {
        // only for N <= 16
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, cpu::gemmStridedWith(kernel.toStdString(), 2, 17, 2, a.data(), 1, 1, b.data(), 1, 1, C.data(), 17));
    }
    // the default choice agrees with the named kernel to rounding
    std::vector<float> D(std::size_t(M * ldc), 7.0f);
    cpu::gemmStrided(M, N, K, a.data(), rsA, csA, b.data(), rsB, csB, D.data(), ldc);
    for (std::size_t i = 0; i < C.size(); ++i) QVERIFY(std::abs(C[i] - D[i]) <= 1e-4f * (1.f + std::abs(C[i])));
}

void TestGemmPacked::deterministic() {
    const int M = 200, N = 300, K = 600;
    std::vector<float> A(std::size_t(M * K)), B(std::size_t(K * N)), C1(std::size_t(M * N)), C2(std::size_t(M * N));
    for (std::size_t i = 0; i < A.size(); ++i) A[i] = float(std::sin(double(i)));
    for (std::size_t i = 0; i < B.size(); ++i) B[i] = float(std::cos(double(i)));
    cpu::gemmPacked(M, N, K, A.data(), K, B.data(), N, C1.data(), N);
    cpu::gemmPacked(M, N, K, A.data(), K, B.data(), N, C2.data(), N);
    QVERIFY(C1 == C2);
    // and with a different thread count
    std::vector<float> C3(std::size_t(M * N));
    {
        tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        cpu::gemmPacked(M, N, K, A.data(), K, B.data(), N, C3.data(), N);
    }
    QVERIFY(C1 == C3);
    qInfo("micro-kernel: %s", cpu::gemmPackedKernelName().c_str());
}

QTEST_APPLESS_MAIN(TestGemmPacked)
#include "tst_gemm_packed.moc"
