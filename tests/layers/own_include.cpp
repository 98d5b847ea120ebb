// The twin of upward_include.cpp, compiled the same way by layers_ir_includes_ir, which expects
// success: the compiler and the ir layer's flags accept a header of ir's own, so the upward probe
// cannot fail for some other reason.
#include "ir/op.h"
