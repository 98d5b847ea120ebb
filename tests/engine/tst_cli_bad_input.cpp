// Bad input never crashes adjoint-cli: every malformed file, shape mismatch, cycle or missing
// binding gets exit status 1 and an "error:" line that names the problem and where it is; bad
// usage gets exit status 2. Runs the real executable (and, under ASan, the instrumented one).
#include <QtTest>
#include <fstream>

#include "test_support.h"

using adj::test::runCli;

namespace {

// A small valid graph; the rows below break one thing at a time.
const char* kValid = R"({"format": "adjoint-graph", "version": 1, "name": "ok",
 "inputs": [{"name": "x", "shape": [2, 3]}],
 "parameters": [{"name": "w", "shape": [3, 2], "values": [1, 2, 3, 4, 5, 6]}],
 "nodes": [{"name": "h", "op": "matmul", "inputs": ["x", "w"]},
           {"name": "y", "op": "relu", "inputs": ["h"]}],
 "outputs": [{"name": "out", "value": "y"}]})";

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    auto p = s.find(from);
    if (p == std::string::npos) qFatal("test bug: '%s' not in the base graph", from.c_str());
    return s.replace(p, from.size(), to);
}

std::string npyHeader(const std::string& dict, int pad = 0) {
    std::string h = dict;
    std::size_t total = 10 + h.size() + 1;
    h += std::string((64 - total % 64) % 64 + std::size_t(pad), ' ') + "\n";
    std::string out = "\x93NUMPY";
    out += char(1);
    out += char(0);
    out += char(h.size() & 0xff);
    out += char((h.size() >> 8) & 0xff);
    return out + h;
}

std::string floats(int n) { return std::string(std::size_t(n) * 4, '\0'); }

void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary);
    f << bytes;
}

}  // namespace

class TestCliBadInput : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void malformedGraphs_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("extension");
        QTest::addColumn<QString>("fragment");
        auto row = [](const char* name, const std::string& content, const char* fragment, const char* ext = ".json") {
            QTest::newRow(name) << QByteArray::fromStdString(content) << QString(ext) << QString(fragment);
        };
        const std::string v = kValid;
        row("empty file", "", "graph.json");
        row("not json", "hello world", "graph.json");
        row("truncated", v.substr(0, v.size() / 2), "graph.json");
        row("binary garbage", std::string("\x00\x01\xff\xfe{{{\x7f", 9), "graph.json");
        row("top level array", "[1, 2, 3]", "graph.json");
        row("nodes not an array", replaced(v, R"("nodes": [)", R"("nodes": 5, "x": [)"), "nodes");
        row("inputs not strings", replaced(v, R"(["x", "w"])", "[1, 2]"), "inputs");
        row("absurd nesting", std::string(100000, '[') + std::string(100000, ']'), "nest");
        row("deep object nesting", std::string(5000, '{').insert(1, ""), "graph.json");
        row("unknown op", replaced(v, R"("op": "relu")", R"("op": "convolve")"), "convolve");
        row("unknown input name", replaced(v, R"(["h"])", R"(["q"])"), "'q'");
        row("duplicate node name", replaced(v, R"("name": "y", "op")", R"("name": "h", "op")"), "'h'");
        row("cycle", replaced(replaced(v, R"(["x", "w"])", R"(["y", "w"])"), R"("shape": [2, 3])", R"("shape": [2, 3])"), "cycle");
        row("arity", replaced(v, R"(["x", "w"])", R"(["x"])"), "'h'");
        row("shape mismatch", replaced(v, R"("shape": [2, 3])", R"("shape": [2, 4])"), "inner dimensions");
        row("dimension of 2^40", replaced(v, R"("shape": [2, 3])", R"("shape": [1099511627776, 3])"), "inputs[0].shape");
        row("negative dimension", replaced(v, R"("shape": [2, 3])", R"("shape": [-2, 3])"), "inputs[0].shape");
        row("values do not match shape", replaced(v, "[1, 2, 3, 4, 5, 6]", "[1, 2, 3]"), "'w'");
        row("parameter value not a number", replaced(v, "[1, 2, 3, 4, 5, 6]", R"([1, 2, "3", 4, 5, 6])"), "parameters[0].values[2]");
        row("wrong format tag", replaced(v, R"("adjoint-graph")", R"("something-else")"), "format");
        row("unsupported version", replaced(v, R"("version": 1)", R"("version": 99)"), "version");
        row("bad attribute type", replaced(v, R"("op": "relu", "inputs": ["h"])", R"("op": "sum", "inputs": ["h"], "attrs": {"keepdims": "yes"})"), "keepdims");
        row("unknown attribute", replaced(v, R"("op": "relu", "inputs": ["h"])", R"("op": "relu", "inputs": ["h"], "attrs": {"alpha": 1})"), "alpha");
        row("missing required attribute", replaced(v, R"("op": "relu")", R"("op": "reshape")"), "shape");
        row("output of nothing", replaced(v, R"("value": "y")", R"("value": "nope")"), "nope");
        row("no outputs", replaced(v, R"([{"name": "out", "value": "y"}])", "[]"), "output");
        row("huge reshape", replaced(v, R"("op": "relu", "inputs": ["h"])", R"("op": "reshape", "inputs": ["h"], "attrs": {"shape": [1099511627776, 1099511627776]})"), "'y'");
        row("random bytes as onnx", std::string("\x08\x07\x12\x04junk\xff\xff\xff", 12), "graph.onnx", ".onnx");
        row("unknown extension", "whatever", "graph.txt", ".txt");
    }
    void malformedGraphs() {
        QFETCH(QByteArray, content);
        QFETCH(QString, extension);
        QFETCH(QString, fragment);
        const std::string path = adj::test::tempDir() + "/graph" + extension.toStdString();
        writeFile(path, content.toStdString());
        for (const char* command : {"validate", "info", "run"}) {
            auto r = runCli({command, QString::fromStdString(path)});
            QVERIFY2(r.exitCode == 1, qPrintable(QString("%1: exit %2, stderr: %3").arg(command).arg(r.exitCode).arg(r.err)));
            QVERIFY2(r.err.startsWith("error: "), qPrintable(r.err));
            QVERIFY2(r.err.contains(fragment), qPrintable(QString("'%1' not in: %2").arg(fragment, r.err)));
        }
    }

    void malformedTensors_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("fragment");
        auto row = [](const char* name, const std::string& content, const char* fragment) {
            QTest::newRow(name) << QByteArray::fromStdString(content) << QString(fragment);
        };
        const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        row("empty", "", "x.npy");
        row("bad magic", "NOTNUMPY" + floats(6), "x.npy");
        row("truncated header", npyHeader(good).substr(0, 20), "x.npy");
        row("lying header: data too short", npyHeader(good) + floats(2), "x.npy");
        row("lying header: data too long", npyHeader(good) + floats(9), "x.npy");
        row("absurd dims", npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }") + floats(6), "x.npy");
        row("negative dim", npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }") + floats(6), "x.npy");
        row("fortran order", npyHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }") + floats(6), "x.npy");
        row("unknown dtype", npyHeader("{'descr': '<c16', 'fortran_order': False, 'shape': (2, 3), }") + floats(24), "x.npy");
        row("garbage dict", npyHeader("{{{{ not a dict") + floats(6), "x.npy");
        row("wrong shape for input", npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }") + floats(9), "'x'");
    }
    void malformedTensors() {
        QFETCH(QByteArray, content);
        QFETCH(QString, fragment);
        const std::string dir = adj::test::tempDir();
        writeFile(dir + "/g.json", kValid);
        writeFile(dir + "/x.npy", content.toStdString());
        auto r = runCli({"run", QString::fromStdString(dir + "/g.json"), "--input", QString::fromStdString("x=" + dir + "/x.npy"), "--out",
                         QString::fromStdString(dir + "/out")});
        QVERIFY2(r.exitCode == 1, qPrintable(QString("exit %1, stderr: %2").arg(r.exitCode).arg(r.err)));
        QVERIFY2(r.err.startsWith("error: "), qPrintable(r.err));
        QVERIFY2(r.err.contains(fragment), qPrintable(QString("'%1' not in: %2").arg(fragment, r.err)));
    }

    void bindingProblems() {
        const std::string dir = adj::test::tempDir();
        writeFile(dir + "/g.json", kValid);
        const QString g = QString::fromStdString(dir + "/g.json");
        auto missing = runCli({"run", g, "--out", QString::fromStdString(dir)});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("'x'") && missing.err.contains("binding"), qPrintable(missing.err));
        auto unknown = runCli({"run", g, "--input", "nothere=whatever.npy"});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("'nothere'"), qPrintable(unknown.err));
        auto noFile = runCli({"run", g, "--input", QString::fromStdString("x=" + dir + "/absent.npy")});
        QCOMPARE(noFile.exitCode, 1);
        QVERIFY2(noFile.err.contains("absent.npy"), qPrintable(noFile.err));
        auto noGraph = runCli({"validate", QString::fromStdString(dir + "/absent.json")});
        QCOMPARE(noGraph.exitCode, 1);
        QVERIFY2(noGraph.err.contains("absent.json"), qPrintable(noGraph.err));
        auto dirAsGraph = runCli({"info", QString::fromStdString(dir)});
        QCOMPARE(dirAsGraph.exitCode, 1);
    }

    void badUsage_data() {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("no command") << QStringList{};
        QTest::newRow("unknown command") << QStringList{"frobnicate"};
        QTest::newRow("unknown option") << QStringList{"info", "g.json", "--colour"};
        QTest::newRow("no graph") << QStringList{"validate"};
        QTest::newRow("export without -o") << QStringList{"export", "g.json"};
        QTest::newRow("input without =") << QStringList{"run", "g.json", "--input", "x"};
        QTest::newRow("bad backend") << QStringList{"run", "g.json", "--backend", "tpu"};
    }
    void badUsage() {
        QFETCH(QStringList, args);
        const std::string dir = adj::test::tempDir();
        writeFile(dir + "/g.json", kValid);
        for (auto& a : args)
            if (a == "g.json") a = QString::fromStdString(dir + "/g.json");
        auto r = runCli(args);
        QVERIFY2(r.exitCode == 2, qPrintable(QString("exit %1, stderr: %2").arg(r.exitCode).arg(r.err)));
        QVERIFY2(r.err.startsWith("error: ") || r.err.startsWith("usage:"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCliBadInput)
#include "tst_cli_bad_input.moc"
