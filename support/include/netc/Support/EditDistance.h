//===- EditDistance.h - Levenshtein distance for did-you-mean ---*- C++ -*-===//
//
// Header-only, shared by the compiler's diagnostics and the runtime's
// weight checks (which must not depend on the compiler).
//
//===----------------------------------------------------------------------===//
#ifndef NETC_SUPPORT_EDITDISTANCE_H
#define NETC_SUPPORT_EDITDISTANCE_H

#include <algorithm>
#include <string_view>
#include <vector>

namespace netc {

/// Insertions, deletions and substitutions turning `a` into `b`.
inline size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

} // namespace netc

#endif // NETC_SUPPORT_EDITDISTANCE_H
