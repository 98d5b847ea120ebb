#include "base/byte_size.h"

#include <cstdio>

namespace adj {

std::string readableBytes(std::int64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while ((v >= 1024.0 || v <= -1024.0) && u < 4) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0) return std::to_string(bytes) + " B";
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", v, units[u]);
    return text;
}

}  // namespace adj
