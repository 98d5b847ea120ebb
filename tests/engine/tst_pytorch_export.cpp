// The PyTorch export without PyTorch (tests/pytorch_export runs the written modules under torch):
// every elementwise op's scalar expression of the op table reads as Python; graph names become
// distinct Python identifiers that hide nothing of the file or of nn.Module; a derivative op is
// refused naming its node, through adjoint-cli too (exit 1, an `error:` line); the .npz beside
// the module is a ZIP whose members are the .npy files of the parameters; --train's usage errors.
#include <QtTest>
#include <fstream>
#include <regex>

#include "base/errors.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/pytorch_export.h"
#include "io/pytorch_expression.h"
#include "io/json_format.h"
#include "test_support.h"

using namespace adj;

namespace {

std::string readBytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::uint32_t le32(const std::string& s, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s.at(at + std::size_t(i)));
    return v;
}

}  // namespace

class TestPyTorchExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyElementwiseExpressionReadsAsPython() {
        const std::regex python(R"(^[A-Za-z0-9_ .,()*/+\-<>=!'\[\]]*$)");
        for (const OpInfo& info : allOps()) {
            if (info.scalarExpr.empty()) continue;
            PythonExpression e;
            try {
                e = pythonFromScalarExpr(info.scalarExpr);
            } catch (const Error& err) {
                QFAIL(qPrintable(QString::fromUtf8(err.what())));
            }
            QVERIFY2(std::regex_match(e.text, python), e.text.c_str());
            QVERIFY2(e.text.find('?') == std::string::npos && e.text.find("0.f") == std::string::npos, e.text.c_str());
            for (const auto& f : e.functions) QVERIFY2(!pytorchScalarFunction(f).empty(), f.c_str());
        }
    }

    void expressionsKeepTheirMeaning() {
        QCOMPARE(QString::fromStdString(pythonFromScalarExpr("a > 0.f ? a : 0.f").text),
                 QStringLiteral("torch.where(a > 0.0, _t(a), _t(0.0))"));
        QCOMPARE(QString::fromStdString(pythonFromScalarExpr("a - (b + c)").text), QStringLiteral("a - (b + c)"));
        QCOMPARE(QString::fromStdString(pythonFromScalarExpr("a * f_min(f_max(a + 3.f, 0.f), 6.f) / 6.f").text),
                 QStringLiteral("a * f_min(f_max(a + 3.0, 0.0), 6.0) / 6.0"));
        QCOMPARE(QString::fromStdString(pythonFromScalarExpr("-(a * b)").text), QStringLiteral("-(a * b)"));
        QCOMPARE(QString::fromStdString(pythonFromScalarExpr("1e-5f + a").text), QStringLiteral("1e-5 + a"));
        QVERIFY_THROWS_EXCEPTION(Error, pythonFromScalarExpr("a + import(b)"));
        QVERIFY_THROWS_EXCEPTION(Error, pythonFromScalarExpr("a +"));
        QCOMPARE(QString::fromStdString(pythonFloatLiteral(0.1f)), QStringLiteral("0.1"));
        QCOMPARE(QString::fromStdString(pythonFloatLiteral(2)), QStringLiteral("2.0"));
    }

    void namesBecomeDistinctIdentifiers() {
        Graph g;
        const NodeId x = g.addInput("/layer1/conv.x", {2, 3});
        const NodeId w = g.addParameter("training", Tensor::full({3, 3}, 0.5f));  // nn.Module has an attribute `training`
        const NodeId w2 = g.addParameter("training_", Tensor::full({3, 3}, 0.25f));
        const NodeId h = g.addNode(Op::MatMul, {{x, 0}, {w, 0}}, {}, "1st");
        const NodeId k = g.addNode(Op::MatMul, {{h, 0}, {w2, 0}}, {}, "lambda");
        const NodeId t = g.addNode(Op::Tanh, {{k, 0}}, {}, "tanh");  // as the function it calls
        g.addOutput("y", {t, 0});
        const PyTorchModule m = pytorchModule(g, "model.npz");
        const std::string& py = m.source;
        QVERIFY2(py.find("def forward(self, layer1_conv_x):") != std::string::npos, py.c_str());
        QVERIFY2(py.find("self.training_ = torch.nn.Parameter") != std::string::npos, py.c_str());
        QVERIFY2(py.find("self.training__2 = torch.nn.Parameter") != std::string::npos, py.c_str());
        QVERIFY2(py.find("v1st = torch.matmul(layer1_conv_x, self.training_)") != std::string::npos, py.c_str());
        QVERIFY2(py.find("lambda_ = ") != std::string::npos, py.c_str());
        QVERIFY2(py.find("tanh_ = tanh(lambda_)") != std::string::npos, py.c_str());
        QVERIFY2(py.find("PARAMETERS = {\"training_\": \"training\", \"training__2\": \"training_\"}") != std::string::npos, py.c_str());
        QCOMPARE(int(m.tensors.size()), 2);
        QCOMPARE(QString::fromStdString(m.tensors[0].first), QStringLiteral("training_"));
    }

    // A graph file is data: whatever its names and description hold, the module is the module
    // (a newline in a node's name would otherwise end the comment it is in and start a line of
    // code; three quotes in the description would end the docstring).
    void hostileNamesStayInert() {
        Graph g;
        g.name = "evil \"\"\" graph \\";
        g.description = "ends here: \"\"\" os.system('touch /tmp/pwned') \"\"\" and a backslash \\";
        const NodeId x = g.addInput("x", {2});
        const NodeId a = g.addNode(Op::Abs, {{x, 0}}, {}, "abs");  // a local named as the function abs_
        const NodeId b = g.addNode(Op::Neg, {{a, 0}}, {}, "n\nimport os; os.system('touch /tmp/pwned')");
        const NodeId c = g.addNode(Op::Neg, {{b, 0}}, {}, "f_exp");  // the prefix of the written functions
        const NodeId d = g.addNode(Op::Neg, {{c, 0}}, {}, "_private");
        g.addOutput("y", {d, 0});
        const std::string py = pytorchModule(g, "m.npz").source;
        std::size_t lines = 0, imports = 0;
        for (std::size_t at = 0; at < py.size();) {
            const std::size_t end = py.find('\n', at);
            const std::string line = py.substr(at, end - at);
            if (line.rfind("import os", 0) == 0) ++imports;
            ++lines;
            at = end == std::string::npos ? py.size() : end + 1;
        }
        QCOMPARE(imports, std::size_t(1));  // the file's own
        std::size_t quotes = 0;
        for (std::size_t at = py.find("\"\"\""); at != std::string::npos; at = py.find("\"\"\"", at + 3))
            if (at == 0 || py[at - 1] != '\\') ++quotes;
        QVERIFY2(quotes % 2 == 0, py.c_str());
        QVERIFY2(py.find("abs__ = abs_(x)") != std::string::npos, py.c_str());
        QVERIFY2(py.find("vf_exp = ") != std::string::npos, py.c_str());
        QVERIFY2(py.find("v_private = ") != std::string::npos, py.c_str());
        QVERIFY2(lines > 10, py.c_str());
    }

    void aDerivativeOpIsRefusedByName() {
        Graph graph;
        const NodeId g = graph.addInput("g", {1, 2, 3, 3});
        const NodeId x = graph.addInput("x", {1, 2, 4, 4});
        const NodeId dw = graph.addNode(Op::Conv2dGradWeight, {{x, 0}, {g, 0}}, {{"weight_shape", std::vector<std::int64_t>{2, 2, 2, 2}}}, "dw");
        graph.addOutput("dw", {dw, 0});
        try {
            (void)pytorchModule(graph, "m.npz");
            QFAIL("a derivative op was exported");
        } catch (const GraphError& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains("node 'dw' (conv2d_grad_weight)") && what.contains("derivative op"), qPrintable(what));
        }
        const std::string dir = test::tempDir();
        const std::string path = dir + "/backward.py";
        saveGraphJson(graph, dir + "/g.json");
        const auto r = test::runCli({"export", QString::fromStdString(dir + "/g.json"), "-o", QString::fromStdString(path)});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("error: ") && r.err.contains("backward.py: node 'dw'"), qPrintable(r.err));
        QVERIFY(!QFile::exists(QString::fromStdString(path)));
    }

    void theParametersGoIntoAZipOfNpyFiles() {
        const std::string path = test::tempDir() + "/p.npz";
        const Tensor a = Tensor::fromVector({2, 2}, {1, 2, 3, 4});
        const Tensor ids = Tensor::fromInts({3}, {7, -1, 2});
        writeNpz(path, {{"a", a}, {"ids", ids}});
        const std::string zip = readBytes(path);
        QCOMPARE(le32(zip, 0), 0x04034b50u);  // a local file header first
        const std::size_t end = zip.size() - 22;
        QCOMPARE(le32(zip, end), 0x06054b50u);  // the end of the central directory last
        QCOMPARE(int(zip[end + 10]), 2);       // two entries
        // the first member: its name, then exactly the .npy bytes of `a`
        const std::size_t nameLength = std::size_t(static_cast<unsigned char>(zip[26]));
        QCOMPARE(zip.substr(30, nameLength), std::string("a.npy"));
        const std::string npy = encodeNpy(a);
        QCOMPARE(zip.substr(30 + nameLength, npy.size()), npy);
        QCOMPARE(le32(zip, 18), std::uint32_t(npy.size()));
        QVERIFY_THROWS_EXCEPTION(FormatError, writeNpz(path, {{"a", a}, {"a", a}}));
    }

    void trainNeedsAPyTorchModuleAndItsOptions() {
        const QString mlp = QString::fromStdString(test::sourcePath("resources/examples/spirals_mlp.json"));
        const QString dir = QString::fromStdString(test::tempDir());
        auto r = test::runCli({"export", mlp, "-o", dir + "/m.json", "--train"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("-o must name a .py file"), qPrintable(r.err));
        r = test::runCli({"export", mlp, "-o", dir + "/m.py", "--optimizer", "adam"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--optimizer goes with --train"), qPrintable(r.err));
        r = test::runCli({"export", QString::fromStdString(test::sourcePath("resources/examples/mlp.json")), "-o", dir + "/two.py", "--train"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("one input (the features) and one output"), qPrintable(r.err));
        // checked as train checks it, before anything is written: spirals_mlp reads 2 features, digits have 64
        r = test::runCli({"export", mlp, "-o", dir + "/digits.py", "--train", "--dataset", "digits"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("64 features"), qPrintable(r.err));
        QVERIFY(!QFile::exists(dir + "/digits.py") && !QFile::exists(dir + "/digits.npz"));
        r = test::runCli({"export", mlp, "-o", dir + "/m.py", "--train", "--dataset", "spirals"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        for (const char* f : {"/m.py", "/m.npz", "/m_train.py", "/m_x.npy", "/m_y.npy"}) QVERIFY2(QFile::exists(dir + f), f);
        QCOMPARE(readNpy((dir + "/m_y.npy").toStdString(), NpyIntegers::Keep).dtype(), DType::I64);
    }
};

QTEST_GUILESS_MAIN(TestPyTorchExport)
#include "tst_pytorch_export.moc"
