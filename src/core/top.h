// keep_top: the n elements of v with the largest key, largest first; the rest are dropped.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace freezr {

template <typename T, typename Key>
void keep_top(std::vector<T>& v, std::size_t n, Key key) {
  n = std::min(n, v.size());
  std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end(),
                    [&](const T& a, const T& b) { return key(a) > key(b); });
  v.resize(n);
}

}  // namespace freezr
