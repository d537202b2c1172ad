#include "synq/counters.hpp"

#include <string>
#include <utility>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace synq {

namespace {
constexpr std::array<CounterInfo, kCounterCount> kInfo = {{
#define SYNQ_COUNTER_INFO(group, name) {#group, #name},
    SYNQ_COUNTER_LIST(SYNQ_COUNTER_INFO)
#undef SYNQ_COUNTER_INFO
}};

// FreeBSD's names for its counters: the wording of `netstat -s -p tcp`
// (usr.bin/netstat/inet.c, tcp_stats(), plural forms). netstat prints the
// syncache lines after "syncache entries added", indented under it; out of
// that context each gets "syncache" in front.
constexpr std::pair<Counter, std::string_view> kFreeBsdNames[] = {
    {Counter::FreeBSD_listendrop, "listen queue overflows"},
    {Counter::FreeBSD_sc_added, "syncache entries added"},
    {Counter::FreeBSD_sc_retransmitted, "syncache retransmitted"},
    {Counter::FreeBSD_sc_dupsyn, "syncache dupsyn"},
    {Counter::FreeBSD_sc_dropped, "syncache dropped"},
    {Counter::FreeBSD_sc_completed, "syncache completed"},
    {Counter::FreeBSD_sc_bucketoverflow, "syncache bucket overflow"},
    {Counter::FreeBSD_sc_cacheoverflow, "syncache cache overflow"},
    {Counter::FreeBSD_sc_reset, "syncache reset"},
    {Counter::FreeBSD_sc_stale, "syncache stale"},
    {Counter::FreeBSD_sc_aborted, "syncache aborted"},
    {Counter::FreeBSD_sc_badack, "syncache badack"},
    {Counter::FreeBSD_sc_unreach, "syncache unreach"},
    {Counter::FreeBSD_sc_zonefail, "syncache zone failures"},
    {Counter::FreeBSD_sc_sendcookie, "cookies sent"},
    {Counter::FreeBSD_sc_recvcookie, "cookies received"},
};

// Display names, built once: group and name run together (nstat's form) or
// FreeBSD's netstat wording.
const std::array<std::string, kCounterCount>& display_names() {
  static const auto names = [] {
    std::array<std::string, kCounterCount> n;
    for (size_t i = 0; i < kCounterCount; ++i)
      n[i] = std::string(kInfo[i].group) + std::string(kInfo[i].name);
    for (const auto& [c, wording] : kFreeBsdNames) n[static_cast<size_t>(c)] = wording;
    return n;
  }();
  return names;
}

// True if another group uses the same bare name (e.g. InCsumErrors in Tcp and Udp).
bool name_is_shared(size_t i) {
  for (size_t j = 0; j < kCounterCount; ++j)
    if (j != i && kInfo[j].name == kInfo[i].name) return true;
  return false;
}
}  // namespace

const CounterInfo& counter_info(Counter c) {
  return kInfo[static_cast<size_t>(c)];
}

std::string_view counter_display_name(Counter c) {
  return display_names()[static_cast<size_t>(c)];
}

std::optional<Counter> counter_by_name(std::string_view name) {
  std::optional<Counter> bare;
  for (size_t i = 0; i < kCounterCount; ++i) {
    if (name == display_names()[i]) return static_cast<Counter>(i);
    const auto& info = kInfo[i];
    const auto c = static_cast<Counter>(i);
    if (name.size() == info.group.size() + info.name.size() + 1 &&
        name.substr(0, info.group.size()) == info.group && name[info.group.size()] == '.' &&
        name.substr(info.group.size() + 1) == info.name)
      return c;
    if (name.size() == info.group.size() + info.name.size() &&
        name.substr(0, info.group.size()) == info.group &&
        name.substr(info.group.size()) == info.name)
      return c;
    // A bare name shared by several groups resolves to the first (Tcp before Udp).
    if (name == info.name && !bare) bare = c;
  }
  return bare;
}

std::string Counters::to_table(bool all) const {
  std::string out;
  for (size_t i = 0; i < kCounterCount; ++i) {
    if (!all && v_[i] == 0) continue;
    out += fmt::format("{:<40}{:>12}\n", display_names()[i], v_[i]);
  }
  return out;
}

std::string Counters::to_json() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t i = 0; i < kCounterCount; ++i)
    j[std::string(kInfo[i].group)][std::string(kInfo[i].name)] = v_[i];
  return j.dump();
}

std::string Counters::to_flat_json() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t i = 0; i < kCounterCount; ++i) {
    std::string key = name_is_shared(i) ? fmt::format("{}.{}", kInfo[i].group, kInfo[i].name)
                                        : std::string(kInfo[i].name);
    j[key] = v_[i];
  }
  return j.dump();
}

}  // namespace synq
