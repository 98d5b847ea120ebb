#pragma once
// Which nodes run a kernel: what the cost summaries count and the roofline places.
#include "ir/op.h"

namespace adj {

/// True when a node of this op runs a kernel (sources and views do not).
bool isKernelOp(Op op);

}  // namespace adj
