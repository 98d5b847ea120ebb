#include "cost/kernel_ops.h"

namespace adj {

bool isKernelOp(Op op) {
    if (isSource(op)) return false;
    if (isMovement(op)) return op == Op::Concat || op == Op::Pad;
    return true;
}

}  // namespace adj
