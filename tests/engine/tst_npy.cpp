// .npy reading and writing: round trips, NumPy's exact layout, the other dtypes and versions the
// reader accepts, and malformed files (each must throw FormatError naming the file and problem).
#include <QDir>
#include <QFile>
#include <QtTest>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/errors.h"
#include "io/npy.h"
#include "test_support.h"

using namespace adj;

Q_DECLARE_METATYPE(std::string)

namespace {

std::string le16(unsigned v) { return {char(v & 0xff), char((v >> 8) & 0xff)}; }
std::string le32(std::uint32_t v) { return {char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff), char((v >> 24) & 0xff)}; }

/// A .npy file built by hand: magic, version, header length (2 or 4 bytes) and the dict as given.
std::string makeNpy(const std::string& dict, const std::string& data, int major = 1) {
    std::string out = std::string("\x93NUMPY", 6) + char(major) + char(0);
    out += major == 1 ? le16(unsigned(dict.size())) : le32(std::uint32_t(dict.size()));
    return out + dict + data;
}

std::string dictFor(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
    return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
}

template <class T>
std::string bytesOf(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

std::string floatBytes(std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = float(i) * 0.5f;
    return bytesOf(v);
}

void writeRaw(const std::string& path, const std::string& bytes) {
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(bytes.data(), qint64(bytes.size())), qint64(bytes.size()));
}

bool bitEqual(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape()) return false;
    std::vector<float> va = a.toVector(), vb = b.toVector();
    return va.empty() || std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) == 0;
}

}  // namespace

class TestNpy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void nonContiguousSource_data();
    void nonContiguousSource();
    void matchesNumpyBytes();
    void headerIsPaddedTo64();
    void readsOtherDtypesAndVersions_data();
    void readsOtherDtypesAndVersions();
    void malformed_data();
    void malformed();
    void malformedInMemory();
    void missingFile();
    void writeIsAtomic();
    void integerAndBoolFilesKeepTheirType();
    void writeErrors();
};

void TestNpy::roundTrip_data() {
    QTest::addColumn<Shape>("shape");
    QTest::newRow("scalar") << Shape{};
    QTest::newRow("1-D") << Shape{7};
    QTest::newRow("1-element 1-D") << Shape{1};
    QTest::newRow("2-D") << Shape{3, 5};
    QTest::newRow("4-D") << Shape{2, 3, 4, 5};
    QTest::newRow("empty") << Shape{0, 3};
    QTest::newRow("8-D") << Shape{1, 2, 1, 2, 1, 2, 1, 2};
}

void TestNpy::roundTrip() {
    QFETCH(Shape, shape);
    Tensor t = Tensor::empty(shape);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = float(i) * 0.37f - 3.0f;
    if (t.numel() > 1) t.data()[1] = -0.0f;
    const std::string path = test::tempDir() + "/t.npy";
    writeNpy(path, t);
    Tensor r = readNpy(path);
    QCOMPARE(r.shape(), shape);
    QVERIFY(r.isContiguous());
    QVERIFY(bitEqual(r, t));
    // the in-memory variants agree with the files
    QVERIFY(bitEqual(parseNpy(encodeNpy(t), "mem.npy"), t));
}

void TestNpy::nonContiguousSource_data() {
    QTest::addColumn<int>("kind");
    QTest::newRow("transpose") << 0;
    QTest::newRow("slice with step") << 1;
    QTest::newRow("broadcast (stride 0)") << 2;
}

void TestNpy::nonContiguousSource() {
    QFETCH(int, kind);
    Tensor base = Tensor::empty({4, 6});
    for (int i = 0; i < 24; ++i) base.data()[i] = float(i);
    Tensor v = kind == 0 ? base.transpose(0, 1) : kind == 1 ? base.slice(1, 1, 6, 2) : Tensor::fromVector({1, 3}, {1, 2, 3}).expand({4, 3});
    QVERIFY(!v.isContiguous());
    const std::string path = test::tempDir() + "/v.npy";
    writeNpy(path, v);
    Tensor r = readNpy(path);
    QCOMPARE(r.shape(), v.shape());
    QCOMPARE(r.toVector(), v.toVector());
}

void TestNpy::matchesNumpyBytes() {
    // np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)) with NumPy 1.24
    std::string header = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    header.append(128 - 1 - header.size(), ' ');
    header += '\n';
    std::vector<float> v{0, 1, 2, 3, 4, 5};
    const std::string expected = header + bytesOf(v);
    QCOMPARE(encodeNpy(Tensor::fromVector({2, 3}, v)), expected);
}

void TestNpy::headerIsPaddedTo64() {
    for (const Shape& s : {Shape{}, Shape{3}, Shape{100000, 3}, Shape{1, 2, 3, 4, 5, 6, 7, 8}}) {
        Tensor t = Tensor::zeros(s);
        const std::string b = encodeNpy(t);
        const std::size_t dataOffset = b.size() - std::size_t(t.numel()) * 4;
        QCOMPARE(dataOffset % 64, std::size_t(0));
        QCOMPARE(b[dataOffset - 1], '\n');
    }
}

void TestNpy::readsOtherDtypesAndVersions_data() {
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<Shape>("shape");
    QTest::addColumn<std::vector<float>>("expected");
    QTest::newRow("<f8 rounds to float32")
        << makeNpy(dictFor("<f8", "(3,)"), bytesOf(std::vector<double>{0.1, -2.5, 1e300})) << Shape{3}
        << std::vector<float>{0.1f, -2.5f, std::numeric_limits<float>::infinity()};
    QTest::newRow("<i8 labels") << makeNpy(dictFor("<i8", "(2, 2)"), bytesOf(std::vector<std::int64_t>{0, 1, 9, -3})) << Shape{2, 2}
                                << std::vector<float>{0, 1, 9, -3};
    QTest::newRow("<i4 labels") << makeNpy(dictFor("<i4", "(4,)"), bytesOf(std::vector<std::int32_t>{3, 2, 1, 0})) << Shape{4}
                                << std::vector<float>{3, 2, 1, 0};
    QTest::newRow("version 2.0") << makeNpy(dictFor("<f4", "(2,)"), bytesOf(std::vector<float>{1.5f, 2.5f}), 2) << Shape{2}
                                 << std::vector<float>{1.5f, 2.5f};
    QTest::newRow("version 3.0") << makeNpy(dictFor("<f4", "()"), bytesOf(std::vector<float>{7.f}), 3) << Shape{}
                                 << std::vector<float>{7.f};
    QTest::newRow("double quotes, no trailing comma, 16-byte padding")
        << makeNpy("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 2)}    \n", bytesOf(std::vector<float>{4, 5}))
        << Shape{1, 2} << std::vector<float>{4, 5};
    QTest::newRow("key order differs") << makeNpy("{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}\n", bytesOf(std::vector<float>{4, 5}))
                                       << Shape{2} << std::vector<float>{4, 5};
}

void TestNpy::readsOtherDtypesAndVersions() {
    QFETCH(std::string, bytes);
    QFETCH(Shape, shape);
    QFETCH(std::vector<float>, expected);
    const std::string path = test::tempDir() + "/d.npy";
    writeRaw(path, bytes);
    for (const Tensor& t : {readNpy(path), parseNpy(bytes, "d.npy")}) {
        QCOMPARE(t.shape(), shape);
        QCOMPARE(t.dtype(), DType::F32);
        QCOMPARE(t.toVector(), expected);
    }
}

void TestNpy::malformed_data() {
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<QString>("fragment");
    const std::string ok = dictFor("<f4", "(2, 3)");
    QTest::newRow("empty file") << std::string() << "empty";
    QTest::newRow("bad magic") << std::string("PK\x03\x04 not numpy at all", 22) << "bad magic";
    QTest::newRow("truncated magic") << std::string("\x93NUM", 4) << "truncated";
    QTest::newRow("truncated after version") << std::string("\x93NUMPY\x01\x00", 8) << "truncated";
    QTest::newRow("unknown version") << makeNpy(ok, floatBytes(6), 4) << "version 4.0";
    QTest::newRow("header length beyond file")
        << (std::string("\x93NUMPY\x01\x00", 8) + le16(5000) + "{'descr': '<f4'") << "header length 5000 goes beyond the end of the file";
    QTest::newRow("absurd header length") << (std::string("\x93NUMPY\x02\x00", 8) + le32(0xFFFFFFF0u) + "{}") << "is absurd";
    QTest::newRow("unparsable dict") << makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}\n", floatBytes(6))
                                     << "cannot parse the .npy header";
    QTest::newRow("not a dict") << makeNpy("hello world\n", floatBytes(6)) << "cannot parse the .npy header";
    QTest::newRow("dict without shape") << makeNpy("{'descr': '<f4', 'fortran_order': False}\n", floatBytes(6)) << "no 'shape'";
    QTest::newRow("unexpected key") << makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", floatBytes(2))
                                    << "unexpected key 'x'";
    QTest::newRow("unknown dtype") << makeNpy(dictFor("<c8", "(2, 3)"), std::string(48, '\0')) << "unsupported dtype '<c8'";
    QTest::newRow("big-endian dtype") << makeNpy(dictFor(">f4", "(2, 3)"), floatBytes(6)) << "big-endian dtype '>f4'";
    QTest::newRow("structured dtype") << makeNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", floatBytes(2))
                                      << "structured dtypes are not supported";
    QTest::newRow("fortran order") << makeNpy(dictFor("<f4", "(2, 3)", "True"), floatBytes(6)) << "Fortran-order";
    QTest::newRow("negative dimension") << makeNpy(dictFor("<f4", "(-2, 3)"), floatBytes(6)) << "negative dimension";
    QTest::newRow("absurd dimension") << makeNpy(dictFor("<f4", "(1099511627776,)"), floatBytes(6)) << "shape (1099511627776,) is absurd";
    QTest::newRow("absurd product") << makeNpy(dictFor("<f4", "(4294967296, 4294967296)"), floatBytes(6)) << "is absurd";
    QTest::newRow("too many dimensions") << makeNpy(dictFor("<f4", "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)"), floatBytes(1)) << "more than 8 dimensions";
    QTest::newRow("lying header: data too short")
        << makeNpy(dictFor("<f4", "(1000, 1000)"), floatBytes(3))
        << "header says shape (1000, 1000) (4000000 bytes of data) but the file holds 12 bytes";
    QTest::newRow("lying header: data too long") << makeNpy(dictFor("<f4", "(2,)"), floatBytes(3))
                                                 << "header says shape (2,) (8 bytes of data) but the file holds 12 bytes";
    QTest::newRow("int64 data cut short") << makeNpy(dictFor("<i8", "(3,)"), std::string(20, '\0'))
                                          << "(24 bytes of data) but the file holds 20 bytes";
}

void TestNpy::malformed() {
    QFETCH(std::string, bytes);
    QFETCH(QString, fragment);
    const std::string path = test::tempDir() + "/broken_input.npy";
    writeRaw(path, bytes);
    try {
        readNpy(path);
        QFAIL("no FormatError thrown");
    } catch (const FormatError& e) {
        const QString msg = QString::fromStdString(e.what());
        QVERIFY2(msg.startsWith(QString::fromStdString(path) + ": "), qPrintable(msg));
        QVERIFY2(msg.contains(fragment), qPrintable(msg));
    }
}

void TestNpy::malformedInMemory() {
    // the same checks through parseNpy, with the `where` name leading the message
    try {
        parseNpy(makeNpy(dictFor("<f4", "(1000, 1000)"), floatBytes(3)), "x.npy");
        QFAIL("no FormatError thrown");
    } catch (const FormatError& e) {
        QCOMPARE(QString::fromStdString(e.what()),
                 QStringLiteral("x.npy: header says shape (1000, 1000) (4000000 bytes of data) but the file holds 12 bytes"));
    }
    QVERIFY_THROWS_EXCEPTION(FormatError, parseNpy(std::string("\x93NUMPY\x01", 7), "y.npy"));
}

void TestNpy::missingFile() {
    const std::string path = test::tempDir() + "/does_not_exist.npy";
    try {
        readNpy(path);
        QFAIL("no FormatError thrown");
    } catch (const FormatError& e) {
        QVERIFY(QString::fromStdString(e.what()).startsWith(QString::fromStdString(path) + ": cannot open"));
    }
    QVERIFY_THROWS_EXCEPTION(FormatError, readNpy(test::tempDir()));  // a directory
}

void TestNpy::writeIsAtomic() {
    const std::string dir = test::tempDir();
    const std::string path = dir + "/a.npy";
    writeNpy(path, Tensor::full({3}, 1.f));
    writeNpy(path, Tensor::full({5}, 2.f));  // replaces the file
    QCOMPARE(readNpy(path).toVector(), std::vector<float>(5, 2.f));
    const QStringList files = QDir(QString::fromStdString(dir)).entryList(QDir::Files);
    QCOMPARE(files, QStringList{"a.npy"});  // no temporary left behind
}

void TestNpy::integerAndBoolFilesKeepTheirType() {
    // written as '<i4' and '|b1', read back with Keep as the same type and values, and as floats
    // without it (what NumPy reads: tests/fixtures cover NumPy's own files)
    const std::string dir = test::tempDir();
    Tensor i32 = Tensor::empty({3}, DType::I32);
    for (int k = 0; k < 3; ++k) i32.ptr<std::int32_t>()[k] = (k - 1) * 70000;
    Tensor flags = Tensor::empty({2, 2}, DType::Bool);
    for (int k = 0; k < 4; ++k) flags.ptr<std::uint8_t>()[k] = std::uint8_t(k % 3 == 0);
    writeNpy(dir + "/i32.npy", i32);
    writeNpy(dir + "/b.npy", flags);
    QVERIFY(encodeNpy(i32).find("'descr': '<i4'") != std::string::npos);
    QVERIFY(encodeNpy(flags).find("'descr': '|b1'") != std::string::npos);
    const Tensor i32Back = readNpy(dir + "/i32.npy", NpyIntegers::Keep), flagsBack = readNpy(dir + "/b.npy", NpyIntegers::Keep);
    QCOMPARE(i32Back.dtype(), DType::I32);
    QCOMPARE(i32Back.toInts(), (std::vector<std::int64_t>{-70000, 0, 70000}));
    QCOMPARE(flagsBack.dtype(), DType::Bool);
    QCOMPARE(flagsBack.shape(), (Shape{2, 2}));
    QCOMPARE(flagsBack.toInts(), (std::vector<std::int64_t>{1, 0, 0, 1}));
    QCOMPARE(readNpy(dir + "/b.npy").toVector(), (std::vector<float>{1.f, 0.f, 0.f, 1.f}));
    QCOMPARE(readNpy(dir + "/i32.npy").toVector(), (std::vector<float>{-70000.f, 0.f, 70000.f}));
}

void TestNpy::writeErrors() {
    const std::string dir = test::tempDir();
    QVERIFY_THROWS_EXCEPTION(FormatError, writeNpy(dir + "/undefined.npy", Tensor()));
    try {
        writeNpy(dir + "/no/such/dir/x.npy", Tensor::scalar(1.f));
        QFAIL("no FormatError thrown");
    } catch (const FormatError& e) {
        QVERIFY2(QString::fromStdString(e.what()).startsWith(QString::fromStdString(dir + "/no/such/dir/x.npy: ")), e.what());
    }
    QCOMPARE(QDir(QString::fromStdString(dir)).entryList(QDir::Files | QDir::NoDotAndDotDot), QStringList{});
}

QTEST_APPLESS_MAIN(TestNpy)
#include "tst_npy.moc"
