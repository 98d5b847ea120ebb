// adjoint-cli diff A B: a graph against itself has no differences; against its -O2 form the
// totals are optimize's own before and after figures and the merged Q/K/V projections show as
// removed and added; hand-made edits show as what they are (a renamed node is a rename, not a
// removal and an addition; a changed op names both ops; a new node is added; new weights are
// "values"); bad input and usage get exit 1 and 2.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <fstream>

#include "test_support.h"

using adj::test::runCli;

namespace {

// x -> matmul(w) -> h -> tanh -> y; the variants below change one thing each.
const char* kBase = R"({"format": "adjoint-graph", "version": 1, "name": "d",
 "inputs": [{"name": "x", "shape": [2, 3]}],
 "parameters": [{"name": "w", "shape": [3, 2], "values": [1, 2, 3, 4, 5, 6]}],
 "nodes": [{"name": "h", "op": "matmul", "inputs": ["x", "w"]},
           {"name": "act", "op": "tanh", "inputs": ["h"]}],
 "outputs": [{"name": "y", "value": "act"}]})";

std::string edited(std::string s, const std::string& from, const std::string& to) {
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    return s;
}

QString writeGraph(const std::string& text) {
    static int n = 0;
    const std::string path = adj::test::tempDir() + "/g" + std::to_string(++n) + ".json";
    std::ofstream(path) << text;
    return QString::fromStdString(path);
}

QJsonObject diffJson(const QString& a, const QString& b) {
    const auto r = runCli({"diff", a, b, "--json"});
    if (r.exitCode != 0) qWarning("%s", qPrintable(r.err));
    return QJsonDocument::fromJson(r.out.toUtf8()).object();
}

QStringList names(const QJsonValue& v) {
    QStringList s;
    for (const auto& x : v.toArray()) s << x.toString();
    return s;
}

QString whatOf(const QJsonObject& d, const QString& name) {
    for (const auto& c : d["changes"].toArray())
        if (c.toObject()["name"].toString() == name) {
            QStringList w;
            for (const auto& x : c.toObject()["what"].toArray()) w << x.toString();
            return w.join("; ");
        }
    return {};
}

}  // namespace

class TestCliDiff : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void sameGraphNoDifferences() {
        const QString g = writeGraph(kBase);
        const QJsonObject d = diffJson(g, g);
        QVERIFY(names(d["added"]).isEmpty() && names(d["removed"]).isEmpty() && names(d["changed"]).isEmpty());
        QCOMPARE(d["matched"].toInt(), 4);
        const auto text = runCli({"diff", g, g});
        QVERIFY2(text.exitCode == 0 && text.out.contains("no differences"), qPrintable(text.out + text.err));
    }

    void editsShowAsWhatTheyAre() {
        const QString base = writeGraph(kBase);
        // a rename
        QJsonObject d = diffJson(base, writeGraph(edited(kBase, "\"h\"", "\"hidden\"")));
        QVERIFY2(names(d["added"]).isEmpty() && names(d["removed"]).isEmpty(), qPrintable(QJsonDocument(d).toJson()));
        QCOMPARE(names(d["changed"]), QStringList{"hidden"});
        QCOMPARE(whatOf(d, "hidden"), QString("renamed from h"));
        // another op
        d = diffJson(base, writeGraph(edited(kBase, "\"tanh\"", "\"sigmoid\"")));
        QCOMPARE(names(d["changed"]), QStringList{"act"});
        QCOMPARE(whatOf(d, "act"), QString("op tanh -> sigmoid"));
        // new weights
        d = diffJson(base, writeGraph(edited(kBase, "[1, 2, 3, 4, 5, 6]", "[1, 2, 3, 4, 5, 7]")));
        QCOMPARE(names(d["changed"]), QStringList{"w"});
        QCOMPARE(whatOf(d, "w"), QString("values"));
        // a node more: relu after tanh, the output moved to it
        d = diffJson(base, writeGraph(edited(edited(kBase, R"("inputs": ["h"]}])", R"("inputs": ["h"]}, {"name": "r", "op": "relu", "inputs": ["act"]}])"),
                                             R"("value": "act")", R"("value": "r")")));
        QCOMPARE(names(d["added"]), QStringList{"r"});
        QVERIFY(names(d["removed"]).isEmpty() && names(d["changed"]).isEmpty());
        QCOMPARE(d["totals"].toObject()["b"].toObject()["nodes"].toInt(), 5);
    }

    void optimizedFormAgainstOriginal() {
        const QString original = QString::fromStdString(adj::test::sourcePath("resources/examples/attention.json"));
        const QString optimized = QString::fromStdString(adj::test::tempDir()) + "/attention_O2.json";
        const auto o = runCli({"optimize", original, "-O2", "-o", optimized, "--json"});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err));
        const QJsonObject figures = QJsonDocument::fromJson(o.out.toUtf8()).object();
        const QJsonObject d = diffJson(original, optimized);
        const QJsonObject a = d["totals"].toObject()["a"].toObject(), b = d["totals"].toObject()["b"].toObject();
        QCOMPARE(a["nodes"].toInt(), figures["nodes_before"].toInt());
        QCOMPARE(b["nodes"].toInt(), figures["nodes_after"].toInt());
        QCOMPARE(a["kernels"].toInt(), figures["kernels_before"].toInt());
        QCOMPARE(b["kernels"].toInt(), figures["kernels_after"].toInt());
        QCOMPARE(a["flops"].toDouble(), figures["flops_before"].toDouble());
        QCOMPARE(b["flops"].toDouble(), figures["flops_after"].toDouble());
        // the three projections merged into one matmul
        for (const char* gone : {"q_proj", "k_proj", "v_proj"}) QVERIFY2(names(d["removed"]).contains(gone), gone);
        int matmulsAdded = 0;
        const auto added = names(d["added"]);
        for (const QString& n : added) matmulsAdded += n.contains("merged") && !n.endsWith("_w") && !n.endsWith("_b") && !n.contains("add") && !n.contains("split");
        QCOMPARE(matmulsAdded, 1);
        // every node of each graph is matched, added or removed, once
        QCOMPARE(d["matched"].toInt() + names(d["removed"]).size(), a["nodes"].toInt());
        QCOMPARE(d["matched"].toInt() + added.size(), b["nodes"].toInt());
    }

    void badInputAndUsage() {
        const QString g = writeGraph(kBase);
        QCOMPARE(runCli({"diff", g}).exitCode, 2);
        QCOMPARE(runCli({"diff", g, g, g}).exitCode, 2);
        const auto missing = runCli({"diff", g, "/nonexistent/b.json"});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.startsWith("error:") && missing.err.contains("/nonexistent/b.json"), qPrintable(missing.err));
    }
};

QTEST_GUILESS_MAIN(TestCliDiff)
#include "tst_cli_diff.moc"
