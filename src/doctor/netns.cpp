// enter_netns: the `ip netns exec NAME` step, done in-process.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "doctor/host_reader.hpp"

namespace synq::doctor {

void enter_netns(const std::string& name) {
  // `ip netns add NAME` bind-mounts the namespace at /run/netns/NAME
  // (iproute2 ip/ipnetns.c); a name that could climb out of that directory
  // is not a namespace name.
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    throw HostReadError(fmt::format(
        "invalid network namespace name '{}' (a name under /run/netns: not empty, no '/', "
        "not '.' or '..')",
        name));
  }
  std::string path = "/run/netns/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      throw HostReadError(
          fmt::format("no network namespace '{}' ({}: {})", name, path, std::strerror(err)));
    }
    throw HostReadError(
        fmt::format("cannot open network namespace '{}' ({}: {})", name, path, std::strerror(err)));
  }
  // setns moves only the calling thread (kernel/nsproxy.c, setns); called
  // before any thread starts, the whole process follows.
  if (::setns(fd, CLONE_NEWNET) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EPERM) {
      throw HostReadError(
          fmt::format("entering network namespace '{}' needs CAP_SYS_ADMIN (setns({}): {})", name,
                      path, std::strerror(err)));
    }
    throw HostReadError(fmt::format("cannot enter network namespace '{}' (setns({}): {})", name,
                                    path, std::strerror(err)));
  }
  ::close(fd);
}

}  // namespace synq::doctor
