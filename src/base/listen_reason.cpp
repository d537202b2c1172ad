#include "synq/listen_reason.hpp"

#include <initializer_list>

namespace synq {

namespace {

constexpr ListenReasonInfo make(std::string_view id, std::string_view key, std::string_view text,
                                std::string_view section, std::initializer_list<Counter> counters) {
  ListenReasonInfo info{id, key, text, section, {}, 0};
  for (Counter c : counters) info.counter_slots[info.counter_count++] = c;
  return info;
}

// The list expanded once; `using enum` lets the list name counters bare.
constexpr std::array<ListenReasonInfo, kListenReasonCount> make_table() {
  using enum Counter;
  return {{
#define SYNQ_LISTEN_REASON_INFO(id, key, text, section, ...) \
  make(#id, #key, text, section, {__VA_ARGS__}),
      SYNQ_LISTEN_REASON_LIST(SYNQ_LISTEN_REASON_INFO)
#undef SYNQ_LISTEN_REASON_INFO
  }};
}

constexpr auto kTable = make_table();

}  // namespace

const ListenReasonInfo& listen_reason_info(ListenReason r) {
  return kTable[static_cast<size_t>(r)];
}

}  // namespace synq
