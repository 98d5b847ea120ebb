#pragma once
// Helpers shared by the tests: paths to fixtures, running adjoint-cli, comparing tensors.
#include <QString>
#include <QStringList>
#include <string>

#include "tensor/tensor.h"

namespace adj::test {

/// Absolute path of a file in the source tree ("resources/examples/mlp.json").
std::string sourcePath(const std::string& relative);
/// A fresh empty directory under the system temp dir, removed at exit.
std::string tempDir();

struct CliResult {
    int exitCode = -1;
    QString out;
    QString err;
};
/// Runs adjoint-cli with the arguments; waits up to `timeoutMs`.
CliResult runCli(const QStringList& args, int timeoutMs = 120000);

/// The same values as `t`, as a strided view with a nonzero offset into a larger NaN-filled
/// storage: every dimension d is taken as elements 1, 3, ..., 2d-1 of a dimension of 2d + 1 (a
/// rank-0 tensor becomes element 1 of a 2-element storage). A kernel that ignores strides or
/// offset reads NaN.
Tensor stridedCopy(const Tensor& t);

/// Max over elements of |a-b| / (atol + rtol*|b|) <= 1, with a message describing the worst element.
bool allClose(const Tensor& a, const Tensor& b, double rtol, double atol, std::string* why = nullptr);

}  // namespace adj::test
