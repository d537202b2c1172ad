// Small text helpers shared by the report's page and its ladder diagrams.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace synq::lab::html {

/// Text for HTML and SVG element content and attribute values.
inline std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace synq::lab::html
