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
#include <map>

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

    // Issue 18: the cost delta per group (module), matched by path.
    void costDeltaPerGroup() {
        // h in module "enc/proj", act in "enc"; B replaces the tanh by a relu and adds an exp in "dec"
        const std::string a = edited(edited(kBase, "\"inputs\": [\"x\", \"w\"]}", "\"inputs\": [\"x\", \"w\"], \"meta\": {\"group\": \"enc/proj\"}}"),
                                     "\"inputs\": [\"h\"]}", "\"inputs\": [\"h\"], \"meta\": {\"group\": \"enc\"}}");
        std::string b = edited(a, "\"op\": \"tanh\"", "\"op\": \"relu\"");
        b = edited(b, "\"value\": \"act\"", "\"value\": \"e\"");
        b = edited(b, "\"meta\": {\"group\": \"enc\"}}]",
                   "\"meta\": {\"group\": \"enc\"}}, {\"name\": \"e\", \"op\": \"exp\", \"inputs\": [\"act\"], \"meta\": {\"group\": \"dec\"}}]");
        const QString fa = writeGraph(a), fb = writeGraph(b);
        const QJsonObject d = diffJson(fa, fb);
        QCOMPARE(names(d["added"]), QStringList{"e"});
        std::map<QString, QJsonObject> rows;
        for (const auto& r : d["groups"].toArray()) rows[r.toObject()["group"].toString()] = r.toObject();
        QVERIFY(rows.count("enc") && rows.count("enc/proj") && rows.count("dec") && rows.count(""));
        QCOMPARE(rows["enc"]["nodes"].toObject()["a"].toInt(), 2);  // h and act
        QCOMPARE(rows["enc"]["nodes"].toObject()["b"].toInt(), 2);
        QCOMPARE(rows["enc/proj"]["flops"].toObject()["a"].toDouble(), rows["enc/proj"]["flops"].toObject()["b"].toDouble());
        QCOMPARE(rows["dec"]["nodes"].toObject()["a"].toInt(), 0);
        QCOMPARE(rows["dec"]["nodes"].toObject()["b"].toInt(), 1);
        QVERIFY(rows["dec"]["flops"].toObject()["b"].toDouble() > 0);  // the exp's
        // the text names the groups that changed, not those that did not
        const auto text = runCli({"diff", fa, fb});
        QCOMPARE(text.exitCode, 0);
        QVERIFY2(text.out.contains("group dec: nodes 0 -> 1"), qPrintable(text.out));
        QVERIFY2(!text.out.contains("group enc/proj"), qPrintable(text.out));
        // graphs without groups: no rows
        QVERIFY(diffJson(writeGraph(kBase), writeGraph(kBase))["groups"].toArray().isEmpty());
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
