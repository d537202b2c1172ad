#include "script/shell_block.hpp"

#include <optional>
#include <string>
#include <vector>

namespace synq::script {

namespace {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// Splits a command into words, removing simple '...' and "..." quoting.
// Nullopt when the line uses anything that makes it more than one plain
// command (pipes, redirections, expansions, command lists) or a quote is open.
std::optional<std::vector<std::string>> plain_words(std::string_view line) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        cur += c;
      }
      continue;
    }
    switch (c) {
      case '\'':
      case '"':
        quote = c;
        in_word = true;
        break;
      case ' ':
      case '\t':
        if (in_word) words.push_back(std::move(cur));
        cur.clear();
        in_word = false;
        break;
      case ';':
      case '|':
      case '&':
      case '<':
      case '>':
      case '$':
      case '`':
      case '(':
      case ')':
      case '\\':
      case '*':
      case '?':
      case '#':
        return std::nullopt;
      default:
        cur += c;
        in_word = true;
    }
  }
  if (quote) return std::nullopt;
  if (in_word) words.push_back(std::move(cur));
  return words;
}

bool is_sysctl_name(std::string_view n) {
  if (n.empty() || n.find('.') == std::string_view::npos) return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-' || c == '/';
    if (!ok) return false;
  }
  return n.front() != '.' && n.front() != '-' && n.back() != '.';
}

// `sysctl [-q] [-w] a.b=c [d.e=f ...]` → the assignments; nullopt for any other
// form (reads, -p, -a, ...), which then stays a raw command.
std::optional<std::vector<SysctlSet>> sysctl_assignments(std::string_view line, uint32_t lineno) {
  auto words = plain_words(line);
  if (!words || words->empty() || (*words)[0] != "sysctl") return std::nullopt;
  std::vector<SysctlSet> sets;
  for (size_t i = 1; i < words->size(); ++i) {
    const std::string& w = (*words)[i];
    if (w == "-q" || w == "-w" || w == "-qw" || w == "-wq") {
      if (!sets.empty()) return std::nullopt;  // flags come first
      continue;
    }
    const size_t eq = w.find('=');
    if (eq == std::string::npos || !is_sysctl_name(std::string_view(w).substr(0, eq))) {
      return std::nullopt;
    }
    sets.push_back(SysctlSet{w.substr(0, eq), w.substr(eq + 1), lineno});
  }
  if (sets.empty()) return std::nullopt;
  return sets;
}

}  // namespace

ShellBlock split_shell_block(std::string_view raw, uint32_t first_line) {
  ShellBlock block;
  block.raw = std::string(raw);
  uint32_t lineno = first_line;
  std::string pending;  // a command continued with a trailing backslash
  uint32_t pending_line = 0;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t nl = raw.find('\n', pos);
    if (nl == std::string_view::npos) nl = raw.size();
    std::string_view line = trim(raw.substr(pos, nl - pos));
    const bool continued = !line.empty() && line.back() == '\\';
    if (continued) line = trim(line.substr(0, line.size() - 1));
    if (pending.empty()) pending_line = lineno;
    if (!line.empty()) {
      if (!pending.empty()) pending += ' ';
      pending += line;
    }
    if (!continued && !pending.empty()) {
      if (pending[0] != '#') {
        if (auto sets = sysctl_assignments(pending, pending_line)) {
          for (auto& s : *sets) block.items.emplace_back(std::move(s));
        } else {
          block.items.emplace_back(ShellCommand{pending, pending_line});
        }
      }
      pending.clear();
    }
    ++lineno;
    pos = nl + 1;
  }
  if (!pending.empty()) block.items.emplace_back(ShellCommand{pending, pending_line});
  return block;
}

}  // namespace synq::script
