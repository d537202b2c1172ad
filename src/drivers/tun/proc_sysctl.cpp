#include "drivers/tun/proc_sysctl.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace synq::tun {

namespace {

std::string proc_path(std::string_view name) {
  std::string path = "/proc/sys/";
  for (char c : name) path += c == '.' ? '/' : c;
  return path;
}

}  // namespace

std::string write_proc_sysctl(std::string_view name, std::string_view value) {
  if (name.find("..") != std::string_view::npos || name.find('/') != std::string_view::npos)
    return "bad sysctl name '" + std::string(name) + "'";
  const std::string path = proc_path(name);
  std::ofstream f(path);
  if (!f) return "cannot open " + path + ": " + std::strerror(errno);
  f << value << '\n';
  f.flush();
  if (!f) return "cannot write '" + std::string(value) + "' to " + path;
  f.close();
  if (f.fail()) return "kernel refused '" + std::string(value) + "' for " + std::string(name);
  return {};
}

std::optional<std::string> read_proc_sysctl(std::string_view name) {
  std::ifstream f(proc_path(name));
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace synq::tun
