// unshare(2) + ioctl(SIOCSIFFLAGS): no `ip` binary, no named namespace to leak
// in /run/netns if the process dies.
#include "drivers/tun/netns.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace synq::tun {

namespace {

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

std::string enter_new_netns() {
  if (::unshare(CLONE_NEWNET) != 0) return errno_text("unshare(CLONE_NEWNET)");
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno_text("socket(AF_INET) for ioctl");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  std::string err;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    err = errno_text("SIOCGIFFLAGS lo");
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = errno_text("SIOCSIFFLAGS lo up");
  }
  ::close(s);
  return err;
}

bool host_target_available(std::string* why) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) {
    if (why) *why = errno_text("pipe");
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    if (why) *why = errno_text("fork");
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return false;
  }
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string err = enter_new_netns();
    if (err.empty()) {
      int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
      if (fd < 0)
        err = errno_text("open /dev/net/tun");
      else
        ::close(fd);
    }
    if (!err.empty()) (void)!::write(pipefd[1], err.data(), err.size());
    ::_exit(err.empty() ? 0 : 1);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[256];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok && why) *why = msg.empty() ? "child failed" : msg;
  return ok;
}

}  // namespace synq::tun
