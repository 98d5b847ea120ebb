// Compiled with the ir layer's include flags by the test layers_ir_cannot_include_runtime, which
// expects the compile to fail: runtime/ is a layer above ir/, so its headers are not on ir's
// include path (engine/CMakeLists.txt). executor.h itself needs only ir/ and tensor/, so nothing
// but the missing header can make this fail.
#include "runtime/executor.h"
