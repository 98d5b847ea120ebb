#include "test_support.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

namespace adj::test {

std::string sourcePath(const std::string& relative) { return std::string(ADJOINT_SOURCE_DIR) + "/" + relative; }

std::string tempDir() {
    static std::vector<std::unique_ptr<QTemporaryDir>> dirs;
    dirs.push_back(std::make_unique<QTemporaryDir>());
    return dirs.back()->path().toStdString();
}

CliResult runCli(const QStringList& args, int timeoutMs) {
    QProcess p;
    p.start(QString::fromUtf8(ADJOINT_CLI), args);
    CliResult r;
    if (!p.waitForStarted(10000)) return r;
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

Tensor stridedCopy(const Tensor& t) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    if (t.rank() == 0) return Tensor::fromVector({2}, {nan, t.flatAt(0)}).slice(0, 1, 2).squeeze(0);
    Shape big = t.shape();
    for (auto& d : big) d = 2 * d + 1;
    Tensor view = Tensor::full(big, nan);
    for (std::int64_t axis = 0; axis < t.rank(); ++axis) view = view.slice(axis, 1, big[std::size_t(axis)], 2);
    view.copyFrom(t);
    return view;
}

bool allClose(const Tensor& a, const Tensor& b, double rtol, double atol, std::string* why) {
    if (a.shape() != b.shape()) {
        if (why) *why = "shape " + shapeToString(a.shape()) + " vs " + shapeToString(b.shape());
        return false;
    }
    std::vector<float> va = a.toVector(), vb = b.toVector();
    double worst = 0;
    std::size_t worstI = 0;
    for (std::size_t i = 0; i < va.size(); ++i) {
        double x = va[i], y = vb[i];
        double r;
        if (std::isnan(x) || std::isnan(y)) r = (std::isnan(x) && std::isnan(y)) ? 0 : 1e30;
        else if (std::isinf(x) || std::isinf(y)) r = (x == y) ? 0 : 1e30;
        else r = std::fabs(x - y) / (atol + rtol * std::fabs(y));
        if (r > worst) {
            worst = r;
            worstI = i;
        }
    }
    if (worst > 1.0) {
        if (why) *why = "element " + std::to_string(worstI) + ": " + std::to_string(va[worstI]) + " vs " + std::to_string(vb[worstI]);
        return false;
    }
    return true;
}

}  // namespace adj::test
