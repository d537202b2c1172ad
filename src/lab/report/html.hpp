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

/// tcpdump's flag letters, in its order: S F R P U E W, then '.' for ACK.
inline std::string tcp_flag_letters(uint8_t f) {
  std::string s;
  if (f & 0x02) s += 'S';
  if (f & 0x01) s += 'F';
  if (f & 0x04) s += 'R';
  if (f & 0x08) s += 'P';
  if (f & 0x20) s += 'U';
  if (f & 0x40) s += 'E';
  if (f & 0x80) s += 'W';
  if (f & 0x10) s += '.';
  return s;
}

}  // namespace synq::lab::html
