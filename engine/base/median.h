#pragma once
// The median of a sample (timings): the middle value, or the mean of the two middle ones; 0 for
// none. Takes its argument by value (it reorders it).
#include <algorithm>
#include <vector>

namespace adj {

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    const auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    if (v.size() % 2) return *mid;
    return 0.5 * (*mid + *std::max_element(v.begin(), mid));
}

}  // namespace adj
