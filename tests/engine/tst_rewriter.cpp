// The Rewriter: rules as data indexed by root op, combined sets, a worklist driver that reaches a
// fixed point with few visits, and a trace that replays step by step.
#include <QFile>
#include <QRegularExpression>
#include <QtTest>
#include <algorithm>
#include <chrono>
#include <set>
#include <nlohmann/json.hpp>

#include "io/json_format.h"
#include "ir/builder.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "test_support.h"

using namespace adj;

namespace {

/// Rebuilds a graph from the trace: the initial graph, then each step's edits. Returns the printed
/// graph after every step.
std::vector<std::string> replay(const nlohmann::json& trace, std::string* failure) {
    Graph g = parseGraphJson(trace.at("initial_graph").dump(), "trace");
    std::vector<std::string> texts;
    for (const auto& step : trace.at("steps")) {
        for (const auto& a : step.at("added")) {
            const Op op = opFromName(a.at("op").get<std::string>()).value();
            const std::string name = a.at("name");
            if (op == Op::Constant || op == Op::Parameter) {
                const Shape shape = a.at("shape").get<Shape>();
                Tensor t = Tensor::fromVector(shape, a.at("values").get<std::vector<float>>());
                if (op == Op::Constant) g.addConstant(t, name);
                else g.addParameter(name, t);
                continue;
            }
            std::vector<ValueRef> ins;
            for (const auto& i : a.at("inputs")) ins.push_back(g.findValue(i.get<std::string>()).value());
            Attributes attrs;
            for (const auto& spec : opInfo(op).attrs) {
                if (!a.at("attrs").contains(spec.name)) continue;
                const auto& v = a.at("attrs").at(spec.name);
                switch (spec.type) {
                    case AttrType::Int: attrs.set(spec.name, v.get<std::int64_t>()); break;
                    case AttrType::Float: attrs.set(spec.name, v.get<double>()); break;
                    case AttrType::Ints: attrs.set(spec.name, v.get<std::vector<std::int64_t>>()); break;
                    case AttrType::Floats: attrs.set(spec.name, v.get<std::vector<double>>()); break;
                    case AttrType::String: attrs.set(spec.name, v.get<std::string>()); break;
                }
            }
            g.addNode(op, ins, attrs, name);
        }
        for (const auto& r : step.at("rewired"))
            g.replaceAllUses(g.findValue(r.at("from").get<std::string>()).value(), g.findValue(r.at("to").get<std::string>()).value());
        for (const auto& n : step.at("removed")) g.removeNode(g.findNode(n.get<std::string>()).value());
        auto problems = verifyGraph(g);
        if (!problems.empty() && failure) *failure = "step " + step.at("index").dump() + ": " + problems[0].message;
        texts.push_back(printGraph(g));
    }
    return texts;
}

Graph chainGraph(int chains, int length) {
    Graph g;
    g.name = "chains";
    const ValueRef x{g.addInput("x", {4}), 0};
    GraphBuilder b(g);
    ValueRef one = b.constant(1.f, "one");
    for (int c = 0; c < chains; ++c) {
        ValueRef v = x;
        for (int i = 0; i < length; ++i) {
            const std::string s = "c" + std::to_string(c) + "_" + std::to_string(i);
            // a foldable constant expression, an identity, and a duplicate for CSE
            ValueRef k = b.op(Op::Add, {one, one}, {}, s + "_k");
            ValueRef m = b.op(Op::Mul, {v, one}, {}, s + "_m");
            ValueRef d1 = b.op(Op::Mul, {m, k}, {}, s + "_d1");
            ValueRef d2 = b.op(Op::Mul, {k, m}, {}, s + "_d2");
            v = b.op(Op::Sub, {d1, d2}, {}, s + "_v");
        }
        g.addOutput("y" + std::to_string(c), v);
    }
    return g;
}

}  // namespace

class TestRewriter : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void ruleSetIndexesByRootOp() {
        int calls = 0;
        RewriteRule onNeg{"on-neg", {Op::Neg}, [&](Rewriter&, NodeId) -> std::optional<std::vector<ValueRef>> { ++calls; return std::nullopt; }};
        RewriteRule any{"any", {}, [&](Rewriter&, NodeId) -> std::optional<std::vector<ValueRef>> { return std::nullopt; }};
        RuleSet a({onNeg});
        RuleSet both = a + RuleSet({any});
        QCOMPARE(both.size(), std::size_t(2));
        QCOMPARE(both.rulesFor(Op::Neg).size(), std::size_t(2));
        QCOMPARE(both.rule(both.rulesFor(Op::Neg)[0]).name, std::string("on-neg"));
        QCOMPARE(both.rulesFor(Op::Exp).size(), std::size_t(1));
        Graph g;
        const ValueRef x{g.addInput("x", {2}), 0};
        GraphBuilder b(g);
        g.addOutput("y", b.neg(b.unary(Op::Exp, x)));
        verifyOrThrow(g);
        Rewriter rw(g, "test");
        QCOMPARE(rw.run(both), std::int64_t(0));
        QCOMPARE(calls, 1);
        QCOMPARE(rw.visits(), std::int64_t(3));
    }

    void fixedPointWithFewVisits() {
        Graph g = chainGraph(20, 50);
        const std::size_t n = g.nodeCount();
        OptimizeOptions o;
        o.level = 1;
        OptimizeResult r = optimizeGraph(g, o);
        for (const auto& p : r.passes)
            QVERIFY2(p.visits <= std::int64_t(2 * p.nodesBefore) + 16,
                     (p.pass + ": " + std::to_string(p.visits) + " visits for " + std::to_string(p.nodesBefore) + " nodes").c_str());
        // x*1 -> x, 1+1 -> 2, d1 == d2 (CSE) -> sub(d, d): each link keeps mul and sub
        QVERIFY2(g.nodeCount() < n / 2, std::to_string(g.nodeCount()).c_str());
        // a second run finds nothing to do
        OptimizeResult again = optimizeGraph(g, o);
        QCOMPARE(again.applications, std::int64_t(0));
    }

    void traceReplaysStepByStep() {
        Graph g = loadGraphFile_(test::sourcePath("resources/examples/elementwise_chain.json"));
        RewriteTrace trace;
        OptimizeOptions o;
        o.trace = &trace;
        optimizeGraph(g, o);
        const auto j = nlohmann::json::parse(trace.toJson());
        QCOMPARE(j.at("format").get<std::string>(), std::string("adjoint-rewrite-trace"));
        QVERIFY(!j.at("steps").empty());
        const auto& s0 = j.at("steps")[0];
        for (const char* k : {"pass", "rule", "root", "added", "rewired", "removed", "cost_before", "cost_after"}) QVERIFY2(s0.contains(k), k);
        for (const char* k : {"flops", "bytes", "kernels", "intensity"}) QVERIFY2(s0.at("cost_after").contains(k), k);
        std::string failure;
        const auto texts = replay(j, &failure);
        QVERIFY2(failure.empty(), failure.c_str());
        QCOMPARE(texts.size(), j.at("steps").size());
        for (std::size_t i = 0; i < texts.size(); ++i)
            QCOMPARE(QString::fromStdString(texts[i]), QString::fromStdString(j.at("steps")[i].at("graph_text").get<std::string>()));
        QCOMPARE(QString::fromStdString(texts.back()), QString::fromStdString(printGraph(g)));
        // the last step's cost is the optimized graph's
        QCOMPARE(j.at("steps").back().at("cost_after").at("kernels").get<std::int64_t>(), graphCostSummary(g).kernels);
    }

    void unknownPassIsAnError() {
        Graph g;
        g.addOutput("y", {g.addInput("x", {2}), 0});
        OptimizeOptions o;
        o.passes = {"frobnicate"};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, optimizeGraph(g, o));
    }

    void passTableIsTheOneList() {
        // each level's steps are 1..N, each once
        for (int level = 1; level <= kMaxOptLevel; ++level) {
            std::vector<int> steps;
            for (const PassInfo& p : passTable()) steps.insert(steps.end(), p.steps(level).begin(), p.steps(level).end());
            std::sort(steps.begin(), steps.end());
            for (std::size_t i = 0; i < steps.size(); ++i) QCOMPARE(steps[i], int(i) + 1);
        }
        QVERIFY(pipelinePasses(0).empty());
        QCOMPARE(pipelinePasses(1), (std::vector<std::string>{"constant-folding", "recognize-ops", "algebraic", "cse", "dce"}));
        QCOMPARE(pipelinePasses(2), (std::vector<std::string>{"constant-folding", "recognize-ops", "algebraic", "cse", "dce", "conv-bn", "parallel-matmul",
                                                              "transpose-sinking", "constant-folding", "algebraic", "cse", "dce", "fusion", "dce"}));
        QCOMPARE(knownPasses().size(), passTable().size());
        for (const PassInfo& p : passTable()) {
            QCOMPARE(findPass(p.name), &p);
            QVERIFY2(!p.description.empty() && p.run, p.name.c_str());
        }
        QVERIFY(!findPass("nope"));
        // the CLI's help and errors, and the copy in docs/REWRITES.md, come from the table
        const QString table = QString::fromStdString(passTableText());
        auto help = test::runCli({"--help"});
        QCOMPARE(help.exitCode, 0);
        QVERIFY2(help.out.contains(table), qPrintable(help.out));
        QFile doc(QString::fromStdString(test::sourcePath("docs/REWRITES.md")));
        QVERIFY(doc.open(QIODevice::ReadOnly));
        QVERIFY2(QString::fromUtf8(doc.readAll()).contains("```\n" + table + "```"),
                 qPrintable("docs/REWRITES.md's pass table differs from adjoint-cli --help:\n" + table));
        auto bad = test::runCli({"optimize", QString::fromStdString(test::sourcePath("resources/examples/mlp.json")), "-o",
                                 QString::fromStdString(test::tempDir() + "/x.json"), "--passes", "cse,nope"});
        QCOMPARE(bad.exitCode, 2);
        QString known;
        for (const auto& n : knownPasses()) known += (known.isEmpty() ? "" : ", ") + QString::fromStdString(n);
        QVERIFY2(bad.err.contains("unknown pass 'nope' (known: " + known + ")"), qPrintable(bad.err));
    }

    void cliOptimize() {
        const std::string dir = test::tempDir();
        const QString out = QString::fromStdString(dir + "/opt.json"), trace = QString::fromStdString(dir + "/trace.json");
        auto r = test::runCli({"optimize", QString::fromStdString(test::sourcePath("resources/examples/elementwise_chain.json")), "-o", out,
                               "-O2", "--trace", trace, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto j = nlohmann::json::parse(r.out.toStdString());
        for (const char* k : {"nodes_before", "nodes_after", "kernels_before", "kernels_after", "flops_before", "flops_after", "bytes_before", "bytes_after", "visits", "ms"})
            QVERIFY2(j.contains(k), k);
        QCOMPARE(j.at("kernels_after").get<int>(), 1);
        QVERIFY(QFile::exists(trace));
        auto run = test::runCli({"info", out});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QVERIFY(run.out.contains("fused"));
        auto bad = test::runCli({"optimize", QString::fromStdString(test::sourcePath("resources/examples/mlp.json")), "-o", out, "--passes", "nope"});
        QCOMPARE(bad.exitCode, 2);
        auto exp = test::runCli({"export", QString::fromStdString(test::sourcePath("resources/examples/conv_bn_relu.json")), "-o",
                                 QString::fromStdString(dir + "/e.json"), "--optimized=-O2"});
        QVERIFY2(exp.exitCode == 0, qPrintable(exp.err));
        auto svg = test::runCli({"roofline", QString::fromStdString(test::sourcePath("resources/examples/conv_bn_relu.json")), "-o",
                                 QString::fromStdString(dir + "/r.svg")});
        QVERIFY2(svg.exitCode == 0, qPrintable(svg.err));
        auto png = test::runCli({"roofline", QString::fromStdString(test::sourcePath("resources/examples/conv_bn_relu.json")), "-o",
                                 QString::fromStdString(dir + "/r.png")});
        QVERIFY2(png.exitCode == 0, qPrintable(png.err));
        // a PNG twice the SVG's size (IHDR's width and height, big-endian), and not blank: a
        // white image that size compresses to a few kilobytes, the chart's text and dots do not
        QFile pngFile(QString::fromStdString(dir + "/r.png"));
        QVERIFY(pngFile.open(QIODevice::ReadOnly));
        const QByteArray bytes = pngFile.readAll();
        QVERIFY(bytes.startsWith("\x89PNG\r\n\x1a\n"));
        auto be32 = [&](int at) { return (quint32(quint8(bytes[at])) << 24) | (quint32(quint8(bytes[at + 1])) << 16) | (quint32(quint8(bytes[at + 2])) << 8) | quint8(bytes[at + 3]); };
        QFile svgFile(QString::fromStdString(dir + "/r.svg"));
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        const QByteArray svgText = svgFile.readAll();
        const QRegularExpressionMatch size = QRegularExpression(R"re(width="(\d+)" height="(\d+)")re").match(QString::fromUtf8(svgText));
        QVERIFY(size.hasMatch());
        QCOMPARE(be32(16), 2 * size.captured(1).toUInt());
        QCOMPARE(be32(20), 2 * size.captured(2).toUInt());
        QVERIFY2(bytes.size() > 20000, qPrintable(QString("%1 bytes").arg(bytes.size())));
        // --measure: a predicted and a measured time for every kernel node that moves memory
        auto measured = test::runCli({"roofline", QString::fromStdString(test::sourcePath("resources/examples/attention.json")), "-o",
                                      QString::fromStdString(dir + "/m.svg"), "--measure", "--repeats", "3", "--json"});
        QVERIFY2(measured.exitCode == 0, qPrintable(measured.err));
        const auto report = nlohmann::json::parse(measured.out.toStdString());
        std::set<std::string> names;
        for (const auto& row : report.at("nodes")) {
            names.insert(row.at("name").get<std::string>());
            QVERIFY(row.at("predicted_us").get<double>() > 0);
            QVERIFY(row.at("measured_us").get<double>() > 0);
            const double intensity = row.at("intensity").get<double>(), ridge = report.at("ridge").get<double>();
            QCOMPARE(row.at("bound").get<std::string>(), std::string(intensity >= ridge ? "compute" : "memory"));
        }
        for (const char* n : {"q_proj", "k_proj", "v_proj", "scores", "probs", "context", "o_proj"}) QVERIFY2(names.count(n), n);
        QCOMPARE(test::runCli({"roofline", QString::fromStdString(test::sourcePath("resources/examples/attention.json")), "-o",
                               QString::fromStdString(dir + "/m.svg"), "--measure", "--repeats", "0"}).exitCode, 2);
        auto badExt = test::runCli({"roofline", QString::fromStdString(test::sourcePath("resources/examples/conv_bn_relu.json")), "-o",
                                    QString::fromStdString(dir + "/r.gif")});
        QCOMPARE(badExt.exitCode, 2);
    }

private:
    static Graph loadGraphFile_(const std::string& path) { return loadGraphJson(path); }
};

QTEST_APPLESS_MAIN(TestRewriter)
#include "tst_rewriter.moc"
