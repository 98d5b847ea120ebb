// Datasets for training: the project's generator (fixed reference words), each named dataset's
// shape, classes, determinism and fixed split, the digits file, user data (.npy, CSV), the
// shuffler and its state.
#include <QtTest>
#include <fstream>
#include <set>
#include <string>

#include "base/errors.h"
#include "base/rng.h"
#include "io/npy.h"
#include "test_support.h"
#include "train/batches.h"
#include "train/datasets.h"

using namespace adj;
using namespace adj::train;

Q_DECLARE_METATYPE(std::string)

class TestDatasets : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void splitmix64MatchesTheFormatDocument();
    void rngIsDeterministicAndInRange();
    void normalHasUnitMoments();
    void generated_data();
    void generated();
    void sineIsRegression();
    void digits();
    void unknownNameIsAnError();
    void npyArrays();
    void csvFile();
    void csvErrors();
    void samplerCoversEveryRowEachEpoch();
    void samplerStateRoundTrip();
    void oneHotRows();
};

void TestDatasets::splitmix64MatchesTheFormatDocument() {
    std::uint64_t s = 0;
    QCOMPARE(splitmix64(s), std::uint64_t(0xE220A8397B1DCDAFull));  // docs/FORMAT.md
}

void TestDatasets::rngIsDeterministicAndInRange() {
    Rng a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        const auto x = a.next();
        QCOMPARE(x, b.next());
        differs = differs || x != c.next();
        const double u = a.uniform();
        b.uniform();
        QVERIFY(u >= 0.0 && u < 1.0);
        QVERIFY(a.below(10) < 10);
        b.below(10);
    }
    QVERIFY(differs);
}

void TestDatasets::normalHasUnitMoments() {
    Rng r(3);
    double s = 0, s2 = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        const double x = r.normal();
        s += x;
        s2 += x * x;
    }
    QVERIFY(std::abs(s / n) < 0.03);
    QVERIFY(std::abs(s2 / n - 1.0) < 0.05);
}

void TestDatasets::generated_data() {
    QTest::addColumn<std::string>("name");
    QTest::addColumn<int>("classes");
    QTest::newRow("spirals") << std::string("spirals") << 2;
    QTest::newRow("moons") << std::string("moons") << 2;
    QTest::newRow("circles") << std::string("circles") << 2;
    QTest::newRow("xor") << std::string("xor") << 2;
    QTest::newRow("blobs") << std::string("blobs") << 3;
}

void TestDatasets::generated() {
    QFETCH(std::string, name);
    QFETCH(int, classes);
    const Dataset d = makeDataset(name), again = makeDataset(name);
    QCOMPARE(d.numClasses, classes);
    QCOMPARE(d.featureCount(), std::int64_t(2));
    QCOMPARE(d.train.size(), std::int64_t(1000));
    QCOMPARE(d.validation.size(), std::int64_t(400));
    QCOMPARE(std::int64_t(d.train.labels.size()), d.train.size());
    QCOMPARE(d.train.x.toVector(), again.train.x.toVector());  // deterministic, bit for bit
    QCOMPARE(d.validation.labels, again.validation.labels);
    std::vector<int> counts(std::size_t(classes), 0);
    for (int l : d.train.labels) {
        QVERIFY(l >= 0 && l < classes);
        ++counts[std::size_t(l)];
    }
    for (int c : counts) QVERIFY(c > 1000 / classes / 2);
    for (float v : d.train.x.toVector()) QVERIFY(std::isfinite(v) && std::abs(v) < 5);
    // the held-out split is a separate draw, not a copy of the training points
    QVERIFY(d.train.x.toVector()[0] != d.validation.x.toVector()[0]);
}

void TestDatasets::sineIsRegression() {
    const Dataset d = makeDataset("sine");
    QCOMPARE(d.numClasses, 0);
    QVERIFY(!d.isClassification());
    QCOMPARE(d.train.x.shape(), (Shape{1000, 1}));
    QCOMPARE(d.train.targets.shape(), (Shape{1000, 1}));
    for (std::int64_t i = 0; i < 50; ++i) QVERIFY(std::abs(d.train.targets.data()[i] - std::sin(d.train.x.data()[i])) < 0.3);
}

void TestDatasets::digits() {
    const Dataset d = makeDataset("digits");
    QCOMPARE(d.numClasses, 10);
    QCOMPARE(d.featureCount(), std::int64_t(64));
    QCOMPARE(d.train.size() + d.validation.size(), std::int64_t(1797));
    QCOMPARE(d.validation.size(), std::int64_t(359));
    float lo = 1, hi = 0;
    for (float v : d.train.x.toVector()) lo = std::min(lo, v), hi = std::max(hi, v);
    QCOMPARE(lo, 0.0f);
    QCOMPARE(hi, 1.0f);
    std::set<int> seen(d.validation.labels.begin(), d.validation.labels.end());
    QCOMPARE(int(seen.size()), 10);
    QCOMPARE(makeDataset("digits").validation.labels, d.validation.labels);  // fixed split
}

void TestDatasets::unknownNameIsAnError() {
    try {
        makeDataset("mnist");
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY(std::string(e.what()).find("unknown dataset 'mnist'") != std::string::npos);
    }
}

void TestDatasets::npyArrays() {
    const std::string dir = test::tempDir();
    std::vector<float> x, y;
    for (int i = 0; i < 50; ++i) {
        x.push_back(float(i));
        x.push_back(float(-i));
        x.push_back(0.5f);
        y.push_back(float(i % 4));
    }
    writeNpy(dir + "/x.npy", Tensor::fromVector({50, 3}, x));
    writeNpy(dir + "/y.npy", Tensor::fromVector({50}, y));
    const Dataset d = loadNpyDataset(dir + "/x.npy", dir + "/y.npy");
    QCOMPARE(d.numClasses, 4);
    QCOMPARE(d.train.size(), std::int64_t(40));
    QCOMPARE(d.validation.size(), std::int64_t(10));
    QCOMPARE(d.featureCount(), std::int64_t(3));
    // rows stay together with their labels
    for (std::int64_t i = 0; i < d.train.size(); ++i) QCOMPARE(int(d.train.x.data()[i * 3]) % 4, d.train.labels[std::size_t(i)]);
    // real-valued labels: regression
    y[0] = 0.25f;
    writeNpy(dir + "/y.npy", Tensor::fromVector({50}, y));
    QCOMPARE(loadNpyDataset(dir + "/x.npy", dir + "/y.npy").numClasses, 0);
    // mismatched rows
    writeNpy(dir + "/y.npy", Tensor::fromVector({49}, std::vector<float>(49, 1.0f)));
    QVERIFY_THROWS_EXCEPTION(Error, loadNpyDataset(dir + "/x.npy", dir + "/y.npy"));
}

void TestDatasets::csvFile() {
    const std::string path = test::tempDir() + "/d.csv";
    {
        std::ofstream f(path);
        f << "a,b,label\n";
        for (int i = 0; i < 20; ++i) f << i << "," << (i * 0.5) << "," << (i % 2) << "\r\n";
    }
    const Dataset d = loadCsvDataset(path);
    QCOMPARE(d.numClasses, 2);
    QCOMPARE(d.featureCount(), std::int64_t(2));
    QCOMPARE(d.train.size() + d.validation.size(), std::int64_t(20));
}

void TestDatasets::csvErrors() {
    const std::string dir = test::tempDir();
    auto expectError = [&](const std::string& text, const std::string& needle) {
        const std::string path = dir + "/bad.csv";
        std::ofstream(path) << text;
        try {
            loadCsvDataset(path);
            QFAIL(("no error for: " + text).c_str());
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
        }
    };
    expectError("", "no data rows");
    expectError("1,2,0\n1,2\n", "bad.csv:2");
    expectError("1,2,0\n1,x,1\n", "bad.csv:2");
    expectError("1\n2\n", "two columns");
    QVERIFY_THROWS_EXCEPTION(Error, loadCsvDataset(dir + "/missing.csv"));
}

void TestDatasets::samplerCoversEveryRowEachEpoch() {
    BatchSampler s(10, 4, 1);
    std::vector<std::int64_t> all;
    for (int i = 0; i < 5; ++i) {
        auto b = s.next();
        QCOMPARE(b.size(), std::size_t(4));
        all.insert(all.end(), b.begin(), b.end());
    }
    std::set<std::int64_t> first(all.begin(), all.begin() + 10), second(all.begin() + 10, all.begin() + 20);
    QCOMPARE(first.size(), std::size_t(10));
    QCOMPARE(second.size(), std::size_t(10));
    BatchSampler other(10, 4, 2);
    std::vector<std::int64_t> o;
    for (int i = 0; i < 5; ++i) {
        auto b = other.next();
        o.insert(o.end(), b.begin(), b.end());
    }
    QVERIFY(o != all);  // the seed matters
}

void TestDatasets::samplerStateRoundTrip() {
    BatchSampler a(37, 8, 5);
    for (int i = 0; i < 7; ++i) a.next();
    const SamplerState st = a.state();
    BatchSampler b(37, 8, 999);
    b.setState(st);
    for (int i = 0; i < 20; ++i) QCOMPARE(a.next(), b.next());
    BatchSampler wrong(36, 8, 5);
    QVERIFY_THROWS_EXCEPTION(Error, wrong.setState(st));
}

void TestDatasets::oneHotRows() {
    const Tensor t = oneHot({2, 0}, 3);
    QCOMPARE(t.shape(), (Shape{2, 3}));
    QCOMPARE(t.toVector(), (std::vector<float>{0, 0, 1, 1, 0, 0}));
}

QTEST_APPLESS_MAIN(TestDatasets)
#include "tst_datasets.moc"
