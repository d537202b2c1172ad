#include "synq/counters.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace synq {

namespace {
constexpr std::array<CounterInfo, kCounterCount> kInfo = {{
#define SYNQ_COUNTER_INFO(group, name) {#group, #name},
    SYNQ_COUNTER_LIST(SYNQ_COUNTER_INFO)
#undef SYNQ_COUNTER_INFO
}};

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

std::optional<Counter> counter_by_name(std::string_view name) {
  std::optional<Counter> bare;
  for (size_t i = 0; i < kCounterCount; ++i) {
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
    out += fmt::format("{:<40}{:>12}\n", fmt::format("{}{}", kInfo[i].group, kInfo[i].name), v_[i]);
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
