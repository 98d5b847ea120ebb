// adjoint: the desktop app (adjoint_program.h describes its command line).
#include <QApplication>

#include "adjoint_program.h"

int main(int argc, char** argv) {
    configureAdjointProcess();
    QApplication app(argc, argv);
    return runAdjointProgram(app);
}
