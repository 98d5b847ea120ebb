#pragma once
// Where the example graphs (resources/examples) are: next to the executable for an installed or
// copied program, in the source tree for a build.
#include <QString>

/// The examples folder: the first of <exe dir>/resources/examples, <exe dir>/../share/adjoint/examples
/// and <source dir>/resources/examples that exists; empty when none does.
QString examplesDir();
/// The example opened when the program starts without a file (mlp.json); empty when missing.
QString defaultExamplePath();
