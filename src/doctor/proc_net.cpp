#include "doctor/proc_net.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "doctor/host_reader.hpp"

namespace synq::doctor {

namespace {

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

/// "Tcp:" → "Tcp"; empty when the first word is not a group label.
std::string_view group_label(std::string_view first_word) {
  if (first_word.size() < 2 || first_word.back() != ':') return {};
  return first_word.substr(0, first_word.size() - 1);
}

/// Reads a whole file, or throws naming it and errno's text. A missing
/// file (ENOENT) returns false instead when `allow_missing`.
bool read_file(const std::string& path, std::string& out, bool allow_missing) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (allow_missing && err == ENOENT) return false;
    throw HostReadError(fmt::format("cannot read {}: {}", path, std::strerror(err)));
  }
  out.clear();
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw HostReadError(fmt::format("cannot read {}: {}", path, std::strerror(err)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

}  // namespace

std::map<std::string, uint64_t> parse_proc_net_counters(std::string_view text,
                                                        const std::string& file_name) {
  // The kernel writes each group as a header line of names and a value line
  // of the same length (net/ipv4/proc.c: snmp_seq_show_ipstats,
  // snmp_seq_show_tcp_udp, netstat_seq_show).
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  std::map<std::string, uint64_t> counters;
  size_t i = 0;
  auto fail = [&](size_t line_index, const std::string& why) {
    return HostReadError(fmt::format("{}:{}: {}", file_name, line_index + 1, why));
  };
  while (i < lines.size()) {
    auto names = split_words(lines[i]);
    if (names.empty()) {
      ++i;  // blank line (the file ends with one)
      continue;
    }
    std::string_view group = group_label(names[0]);
    if (group.empty()) {
      throw fail(i, fmt::format("expected \"Group: Name ...\", got \"{}\"", lines[i]));
    }
    if (i + 1 >= lines.size() || split_words(lines[i + 1]).empty()) {
      throw fail(i, fmt::format("group {} has a header line but no value line", group));
    }
    auto values = split_words(lines[i + 1]);
    if (group_label(values[0]) != group) {
      throw fail(i + 1, fmt::format("value line of group {} starts with \"{}\"", group, values[0]));
    }
    if (values.size() != names.size()) {
      throw fail(i + 1, fmt::format("group {} has {} names but {} values", group, names.size() - 1,
                                    values.size() - 1));
    }
    for (size_t k = 1; k < names.size(); ++k) {
      std::string_view v = values[k];
      uint64_t value = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
      if (ec != std::errc() || end != v.data() + v.size()) {
        int64_t negative = 0;
        auto [nend, nec] = std::from_chars(v.data(), v.data() + v.size(), negative);
        if (nec == std::errc() && nend == v.data() + v.size() && negative < 0) continue;
        throw fail(i + 1, fmt::format("{}.{} is not a number: \"{}\"", group, names[k], v));
      }
      counters[fmt::format("{}.{}", group, names[k])] = value;
    }
    i += 2;
  }
  return counters;
}

std::map<std::string, uint64_t> read_proc_net_counters(const std::string& proc_root) {
  std::map<std::string, uint64_t> all;
  for (const char* name : {"net/snmp", "net/netstat"}) {
    std::string path = fmt::format("{}/{}", proc_root, name);
    std::string text;
    read_file(path, text, false);
    all.merge(parse_proc_net_counters(text, path));
  }
  return all;
}

const std::vector<std::string>& doctor_knob_names() {
  static const std::vector<std::string> names = {
      "net.core.somaxconn",
      "net.ipv4.tcp_max_syn_backlog",
      "net.ipv4.tcp_syncookies",
      "net.ipv4.tcp_abort_on_overflow",
      "net.ipv4.tcp_synack_retries",
      "net.ipv4.tcp_syn_retries",
      "net.ipv4.tcp_syn_linear_timeouts",  // Linux 6.7 and later
      "net.ipv4.tcp_timestamps",
      "net.ipv4.tcp_fastopen",
  };
  return names;
}

std::map<std::string, int64_t> read_sysctl_knobs(const std::vector<std::string>& names,
                                                 const std::string& proc_root) {
  std::map<std::string, int64_t> knobs;
  for (const auto& name : names) {
    std::string rel = name;
    for (char& c : rel) {
      if (c == '.') c = '/';
    }
    std::string path = fmt::format("{}/sys/{}", proc_root, rel);
    std::string text;
    if (!read_file(path, text, true)) continue;  // not on this kernel
    std::string_view first_line = std::string_view(text).substr(0, text.find('\n'));
    auto words = split_words(first_line);
    int64_t value = 0;
    if (words.size() != 1) {
      throw HostReadError(fmt::format("{}: expected one number, got \"{}\"", path, first_line));
    }
    auto [end, ec] = std::from_chars(words[0].data(), words[0].data() + words[0].size(), value);
    if (ec != std::errc() || end != words[0].data() + words[0].size()) {
      throw HostReadError(fmt::format("{}: not a number: \"{}\"", path, words[0]));
    }
    knobs[name] = value;
  }
  return knobs;
}

}  // namespace synq::doctor
