#include "doctor/proc_owners.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace synq::doctor {

namespace {

bool all_digits(const char* s) {
  if (*s == '\0') return false;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
  }
  return true;
}

/// The whole file, or nullopt if it cannot be opened or read (normal for /proc).
std::optional<std::string> read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      if (n < 0) return std::nullopt;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

/// Closes a DIR* on scope exit.
struct DirCloser {
  DIR* dir;
  ~DirCloser() {
    if (dir) closedir(dir);
  }
};

}  // namespace

std::optional<uint64_t> socket_inode_from_link(std::string_view link_target) {
  constexpr std::string_view prefix = "socket:[";
  if (link_target.size() <= prefix.size() + 1 || link_target.substr(0, prefix.size()) != prefix ||
      link_target.back() != ']') {
    return std::nullopt;
  }
  std::string_view digits =
      link_target.substr(prefix.size(), link_target.size() - prefix.size() - 1);
  uint64_t inode = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return inode;
}

std::vector<std::string> split_cmdline(std::string_view cmdline) {
  std::vector<std::string> argv;
  size_t pos = 0;
  while (pos < cmdline.size()) {
    size_t end = cmdline.find('\0', pos);
    if (end == std::string_view::npos) end = cmdline.size();
    argv.emplace_back(cmdline.substr(pos, end - pos));
    pos = end + 1;
  }
  return argv;
}

std::map<uint64_t, std::vector<Owner>> scan_socket_owners(const std::set<uint64_t>& wanted,
                                                          const std::string& proc_root) {
  std::map<uint64_t, std::vector<Owner>> owners;
  if (wanted.empty()) return owners;
  DirCloser proc{opendir(proc_root.c_str())};
  if (!proc.dir) return owners;
  // pid → the wanted inodes it holds (a forked server holds one listener in
  // many processes; one process may hold it under several fds).
  std::map<int, std::set<uint64_t>> held;
  while (dirent* pe = readdir(proc.dir)) {
    if (!all_digits(pe->d_name)) continue;
    std::string fd_dir = fmt::format("{}/{}/fd", proc_root, pe->d_name);
    DirCloser fds{opendir(fd_dir.c_str())};
    if (!fds.dir) continue;  // exited, or another user's process
    int dfd = dirfd(fds.dir);
    while (dirent* fe = readdir(fds.dir)) {
      if (fe->d_name[0] == '.') continue;
      char target[64];
      ssize_t n = readlinkat(dfd, fe->d_name, target, sizeof target);
      if (n <= 0 || static_cast<size_t>(n) >= sizeof target) continue;
      auto inode = socket_inode_from_link(std::string_view(target, static_cast<size_t>(n)));
      if (inode && wanted.count(*inode)) held[std::atoi(pe->d_name)].insert(*inode);
    }
  }
  for (const auto& [pid, inodes] : held) {
    Owner owner;
    owner.pid = pid;
    if (auto comm = read_small_file(fmt::format("{}/{}/comm", proc_root, pid))) {
      owner.comm = comm->substr(0, comm->find('\n'));
    }
    if (auto cmdline = read_small_file(fmt::format("{}/{}/cmdline", proc_root, pid))) {
      owner.argv = split_cmdline(*cmdline);
    }
    for (uint64_t inode : inodes) owners[inode].push_back(owner);
  }
  return owners;  // std::map iteration above was by pid: each vector is sorted
}

}  // namespace synq::doctor
