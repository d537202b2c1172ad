#include "lab/counter_label.hpp"

#include "synq/counters.hpp"

namespace synq::lab {

std::string counter_label(std::string_view name) {
  if (auto c = counter_by_name(name)) return std::string(counter_display_name(*c));
  return std::string(name);
}

std::string relabel_counter_tag(std::string_view text) {
  if (text.empty() || text.back() != ']') return std::string(text);
  const size_t open = text.rfind(" [");
  if (open == std::string_view::npos) return std::string(text);
  const std::string_view tag = text.substr(open + 2, text.size() - open - 3);
  return std::string(text.substr(0, open + 2)) + counter_label(tag) + "]";
}

}  // namespace synq::lab
