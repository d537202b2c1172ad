#include "synq/errno.hpp"

#include <array>

namespace synq {

namespace {
struct ErrnoName {
  Errno e;
  std::string_view name;
};
constexpr std::array kNames = {
#define SYNQ_ERRNO_NAME(n, num) ErrnoName{Errno::n, #n},
    SYNQ_ERRNO_LIST(SYNQ_ERRNO_NAME)
#undef SYNQ_ERRNO_NAME
};
// Upper-case spellings, built once: "econnrefused" → "ECONNREFUSED".
struct Upper {
  std::array<std::array<char, 20>, kNames.size()> text{};
  std::array<std::string_view, kNames.size()> view{};
  Upper() {
    for (size_t i = 0; i < kNames.size(); ++i) {
      auto n = kNames[i].name;
      for (size_t j = 0; j < n.size() && j < 19; ++j)
        text[i][j] = static_cast<char>(n[j] >= 'a' && n[j] <= 'z' ? n[j] - 32 : n[j]);
      view[i] = std::string_view(text[i].data(), n.size());
    }
  }
};
const Upper& upper() {
  static const Upper u;
  return u;
}
}  // namespace

std::string_view errno_name(Errno e) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i].e == e) return upper().view[i];
  return "E?";
}

bool errno_from_name(std::string_view name, Errno& out) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (upper().view[i] == name || kNames[i].name == name) {
      out = kNames[i].e;
      return true;
    }
  }
  return false;
}

}  // namespace synq
