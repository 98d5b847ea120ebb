#pragma once
// Byte counts as people read them.
#include <cstdint>
#include <string>

namespace adj {

/// 1536 -> "1.5 KiB", 900 -> "900 B": the largest binary unit that keeps the number at 1 or more,
/// one decimal.
std::string readableBytes(std::int64_t bytes);

}  // namespace adj
