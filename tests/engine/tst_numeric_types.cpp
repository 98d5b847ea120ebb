// The element types beside f32, i64, i32 and bool (tensor/dtype.h, ir/element_types.h): f64
// computed in double (checked against double arithmetic written here, with values that float32
// cannot hold), f16 and bf16 rounded to nearest even (against conversions worked out by hand from
// the formats' bit layouts), the narrower and unsigned integers computed in their own width
// (wrap-around as two's complement and modular arithmetic define it), every cast between them
// refusing what it would lose, ops that compute in float32 only refusing the others by name, and
// .npy files of every type, bf16 as its raw bits.
#include <QTest>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "base/errors.h"
#include "io/npy.h"
#include "ir/element_types.h"
#include "ir/verifier.h"
#include "runtime/executor.h"
#include "tensor/dtype_visit.h"
#include "test_support.h"

using namespace adj;

namespace {

template <class T>
Tensor typed(DType type, const Shape& s, const std::vector<T>& v) {
    Tensor t = Tensor::empty(s, type);
    std::memcpy(t.bytes(), v.data(), v.size() * sizeof(T));
    return t;
}

Tensor doubles(const Shape& s, const std::vector<double>& v) { return typed(DType::F64, s, v); }

template <class T>
std::vector<T> valuesOf(const Tensor& t) {
    const Tensor c = t.contiguous();
    std::vector<T> v(static_cast<std::size_t>(c.numel()));
    std::memcpy(v.data(), c.bytes(), v.size() * sizeof(T));
    return v;
}

Tensor cast(const Tensor& x, const char* to) { return test::runOneNode(Op::Cast, {x}, {{"to", std::string(to)}}); }

}  // namespace

class TestNumericTypes : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void doubleComputesInDouble() {
        // 1 + 1e-10 and 1e16 + 1 are not float32 values: a float32 stand-in would lose both
        const Tensor a = doubles({3}, {1.0, 1e16, -2.5}), b = doubles({3}, {1e-10, 1.0, 0.125});
        QCOMPARE(valuesOf<double>(test::runOneNode(Op::Add, {a, b})), (std::vector<double>{1.0 + 1e-10, 1e16 + 1.0, -2.375}));
        QCOMPARE(test::runOneNode(Op::Add, {a, b}).dtype(), DType::F64);
        QCOMPARE(valuesOf<double>(test::runOneNode(Op::Div, {a, b})), (std::vector<double>{1.0 / 1e-10, 1e16, -20.0}));
        const std::vector<double> e = valuesOf<double>(test::runOneNode(Op::Exp, {doubles({2}, {0.5, -30.0})}));
        QCOMPARE(e, (std::vector<double>{std::exp(0.5), std::exp(-30.0)}));
        // an activation's expression (with its float literals) in double
        QCOMPARE(valuesOf<double>(test::runOneNode(Op::Relu, {doubles({2}, {-1e-300, 1e-300})})), (std::vector<double>{0.0, 1e-300}));
    }

    void doubleMatmulAndReductions() {
        // [2, 3] x [3] (a 1-D right operand is a column, dropped from the result)
        const Tensor m = doubles({2, 3}, {1, 2, 3, 4, 5, 6}), v = doubles({3}, {1e-9, 1.0, 1e8});
        QCOMPARE(valuesOf<double>(test::runOneNode(Op::MatMul, {m, v})), (std::vector<double>{1e-9 + 2.0 + 3e8, 4e-9 + 5.0 + 6e8}));
        // batched, the left operand broadcast over the batch
        const Tensor batch = doubles({2, 3, 1}, {1, 0, 0, 0, 0, 2});
        QCOMPARE(test::runOneNode(Op::MatMul, {m, batch}).shape(), (Shape{2, 2, 1}));
        QCOMPARE(valuesOf<double>(test::runOneNode(Op::MatMul, {m, batch})), (std::vector<double>{1, 4, 6, 12}));
        const Tensor x = doubles({2, 2}, {1e16, 1.0, -3.0, 0.5});
        QCOMPARE(valuesOf<double>(test::runOneNode(Op::Sum, {x}, {{"axes", std::vector<std::int64_t>{1}}})), (std::vector<double>{1e16 + 1.0, -2.5}));
        QCOMPARE(valuesOf<double>(test::runOneNode(Op::Mean, {x}, {{"axes", std::vector<std::int64_t>{0}}})), (std::vector<double>{(1e16 - 3.0) / 2, 0.75}));
        QCOMPARE(valuesOf<double>(test::runOneNode(Op::Max, {x})), (std::vector<double>{1e16}));
    }

    void halfTypesRoundToNearestEven() {
        // f16: 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties to even, 1;
        // 1 + 3 * 2^-11 rounds to 1 + 2^-9; 65520 and beyond overflow; 2^-24 is the smallest subnormal
        QCOMPARE(toHalf(1.0f + 0x1p-11f).bits, std::uint16_t(0x3c00));
        QCOMPARE(toHalf(1.0f + 3 * 0x1p-11f).bits, std::uint16_t(0x3c02));
        QCOMPARE(toHalf(65504.f).bits, std::uint16_t(0x7bff));
        QCOMPARE(toHalf(65520.f).bits, std::uint16_t(0x7c00));
        QCOMPARE(toHalf(-0x1p-24f).bits, std::uint16_t(0x8001));
        QCOMPARE(toHalf(0x1p-25f).bits, std::uint16_t(0x0000));        // a tie below the smallest subnormal: to even, 0
        QCOMPARE(toHalf(3 * 0x1p-25f).bits, std::uint16_t(0x0002));    // 1.5 subnormal steps: to even, 2
        QCOMPARE(toHalf(0x1p-14f - 0x1p-25f).bits, std::uint16_t(0x0400));  // rounds up into the smallest normal
        QVERIFY(std::isnan(toFloat(toHalf(std::numeric_limits<float>::quiet_NaN()))));
        for (std::uint32_t bits = 0; bits < 0x7c00; bits += 7)  // every finite half survives the round trip
            QCOMPARE(toHalf(toFloat(Half{std::uint16_t(bits)})).bits, std::uint16_t(bits));
        // bf16: the top 16 bits of a float, rounded on the 17th and below
        QCOMPARE(toBFloat16(1.0f + 0x1p-8f).bits, std::uint16_t(0x3f80));  // tie, to even
        QCOMPARE(toBFloat16(1.0f + 3 * 0x1p-8f).bits, std::uint16_t(0x3f82));
        QCOMPARE(toFloat(BFloat16{0x4049}), 3.140625f);
        // elementwise ops on f16 values: widened, computed, rounded back (2049 is no f16: 2048)
        const Tensor a = typed(DType::F16, {2}, std::vector<Half>{toHalf(2048.f), toHalf(0.1f)});
        const Tensor b = typed(DType::F16, {2}, std::vector<Half>{toHalf(1.f), toHalf(0.2f)});
        const Tensor sum = test::runOneNode(Op::Add, {a, b});
        QCOMPARE(sum.dtype(), DType::F16);
        QCOMPARE(valuesOf<Half>(sum)[0].bits, toHalf(2048.f).bits);
        QCOMPARE(valuesOf<Half>(sum)[1].bits, toHalf(toFloat(toHalf(0.1f)) + toFloat(toHalf(0.2f))).bits);
        QCOMPARE(valuesOf<Half>(test::runOneNode(Op::Maximum, {a, b}))[1].bits, toHalf(0.2f).bits);
    }

    void narrowIntegersWrapInTheirWidth() {
        const Tensor a = typed(DType::U8, {3}, std::vector<std::uint8_t>{250, 3, 0});
        const Tensor b = typed(DType::U8, {3}, std::vector<std::uint8_t>{10, 5, 1});
        QCOMPARE(valuesOf<std::uint8_t>(test::runOneNode(Op::Add, {a, b})), (std::vector<std::uint8_t>{4, 8, 1}));    // 260 mod 256
        QCOMPARE(valuesOf<std::uint8_t>(test::runOneNode(Op::Sub, {a, b})), (std::vector<std::uint8_t>{240, 254, 255}));  // 3 - 5 mod 256
        QCOMPARE(valuesOf<std::uint8_t>(test::runOneNode(Op::Div, {a, b})), (std::vector<std::uint8_t>{25, 0, 0}));
        QCOMPARE(test::runOneNode(Op::Add, {a, b}).dtype(), DType::U8);
        const Tensor c = typed(DType::I8, {3}, std::vector<std::int8_t>{-128, 100, -7});
        const Tensor d = typed(DType::I8, {3}, std::vector<std::int8_t>{-1, 2, 2});
        QCOMPARE(valuesOf<std::int8_t>(test::runOneNode(Op::Mul, {c, d})), (std::vector<std::int8_t>{-128, -56, -14}));  // 128 and 200 wrap
        QCOMPARE(valuesOf<std::int8_t>(test::runOneNode(Op::Div, {c, d})), (std::vector<std::int8_t>{-128, 50, -3}));   // toward zero
        QCOMPARE(valuesOf<std::int8_t>(test::runOneNode(Op::Neg, {c})), (std::vector<std::int8_t>{-128, -100, 7}));
        // u16 products computed without signed overflow (65535 * 65535 overflows int)
        const Tensor e = typed(DType::U16, {1}, std::vector<std::uint16_t>{65535});
        QCOMPARE(valuesOf<std::uint16_t>(test::runOneNode(Op::Mul, {e, e})), (std::vector<std::uint16_t>{1}));
        const Tensor f = typed(DType::U64, {2}, std::vector<std::uint64_t>{~std::uint64_t(0), 5});
        const Tensor g = typed(DType::U64, {2}, std::vector<std::uint64_t>{2, 7});
        QCOMPARE(valuesOf<std::uint64_t>(test::runOneNode(Op::Add, {f, g})), (std::vector<std::uint64_t>{1, 12}));
        QCOMPARE(valuesOf<std::uint64_t>(test::runOneNode(Op::Maximum, {f, g})), (std::vector<std::uint64_t>{~std::uint64_t(0), 7}));
        QCOMPARE(test::runOneNode(Op::Greater, {f, g}).toVector(), (std::vector<float>{1.f, 0.f}));
        QVERIFY(test::runOneNodeError(Op::Div, {a, typed(DType::U8, {3}, std::vector<std::uint8_t>{1, 0, 1})}).find("division by zero") != std::string::npos);
    }

    void castsBetweenEveryTypeRefuseLosses() {
        // exact conversions
        QCOMPARE(valuesOf<double>(cast(Tensor::fromVector({2}, {0.1f, -3.f}), "f64")), (std::vector<double>{double(0.1f), -3.0}));
        QCOMPARE(valuesOf<std::uint8_t>(cast(typed(DType::I16, {2}, std::vector<std::int16_t>{255, 0}), "u8")), (std::vector<std::uint8_t>{255, 0}));
        QCOMPARE(valuesOf<Half>(cast(doubles({1}, {1.0 + 0x1p-11}), "f16"))[0].bits, std::uint16_t(0x3c00));  // rounded, ties to even
        QCOMPARE(valuesOf<std::int64_t>(cast(typed(DType::F16, {1}, std::vector<Half>{toHalf(-2.75f)}), "i64")), (std::vector<std::int64_t>{-2}));
        QCOMPARE(cast(typed(DType::U64, {1}, std::vector<std::uint64_t>{9007199254740992ull}), "f64").dtype(), DType::F64);  // 2^53: exact
        // refusals name the node and the element
        for (const auto& [x, to, what] : std::vector<std::tuple<Tensor, const char*, const char*>>{
                 {typed(DType::U64, {2}, std::vector<std::uint64_t>{1, 9007199254740993ull}), "f64", "2^53"},
                 {typed(DType::I32, {1}, std::vector<std::int32_t>{2049}), "f16", "2^11"},
                 {Tensor::fromVector({2}, {1.f, 256.f}), "u8", "does not fit u8"},
                 {typed(DType::I8, {1}, std::vector<std::int8_t>{-1}), "u64", "does not fit u64"},
                 {typed(DType::U64, {1}, std::vector<std::uint64_t>{~std::uint64_t(0)}), "i64", "does not fit i64"}}) {
            const std::string e = test::runOneNodeError(Op::Cast, {x}, {{"to", std::string(to)}});
            QVERIFY2(e.find("'node'") != std::string::npos && e.find(what) != std::string::npos && e.find("element") != std::string::npos, e.c_str());
        }
    }

    void float32OnlyOpsRefuseOtherTypesByName() {
        // softmax computes in float32 only; matmul in f64 but not in f16; the message says which
        const std::string softmax = test::runOneNodeError(Op::Softmax, {doubles({2}, {1, 2})}, {{"axis", std::int64_t(-1)}});
        QVERIFY2(softmax.find("input 0 is f64") != std::string::npos && softmax.find("f32 only") != std::string::npos, softmax.c_str());
        const Tensor h = typed(DType::F16, {1, 1}, std::vector<Half>{toHalf(1.f)});
        const std::string matmul = test::runOneNodeError(Op::MatMul, {h, h});
        QVERIFY2(matmul.find("input 0 is f16") != std::string::npos && matmul.find("f64") != std::string::npos, matmul.c_str());
        QVERIFY(computesIn(Op::Exp, DType::BF16) && !computesIn(Op::Exp, DType::U8) && computesIn(Op::Add, DType::U8));
        QVERIFY(computesIn(Op::MatMul, DType::F64) && !computesIn(Op::Conv2d, DType::F64));
    }

    void npyFilesOfEveryType() {
        const std::string dir = test::tempDir();
        for (DType t : kAllDTypes) {
            Tensor x = Tensor::zeros({2, 3}, t);
            for (std::size_t k = 0; k < std::size_t(x.numel()) * dtypeSize(t); k += dtypeSize(t)) x.bytes()[k] = std::byte(k % 2);  // 0/1, valid in every type
            const std::string path = dir + "/" + std::string(dtypeName(t)) + ".npy";
            writeNpy(path, x);
            const Tensor back = readNpy(path, NpyIntegers::Keep);
            // bf16 comes back as the uint16 it is written as (NumPy has no bfloat16)
            QCOMPARE(back.dtype(), t == DType::BF16 ? DType::U16 : t);
            QCOMPARE(back.shape(), x.shape());
            QVERIFY(std::memcmp(back.bytes(), x.bytes(), std::size_t(x.numel()) * dtypeSize(t)) == 0);
        }
        // read as float32 by default: f64 rounded, u8 exact
        writeNpy(dir + "/d.npy", doubles({1}, {0.1}));
        QCOMPARE(readNpy(dir + "/d.npy").toVector(), (std::vector<float>{0.1f}));
    }
};

QTEST_GUILESS_MAIN(TestNumericTypes)
#include "tst_numeric_types.moc"
