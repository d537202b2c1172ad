// A private network namespace for the host-kernel target: the calling process
// leaves the host's network stack for a fresh, empty one (only `lo`), so a
// script's sysctls, sockets and TUN device never touch the host and all vanish
// with the process. Linux only; needs CAP_SYS_ADMIN (root).
#pragma once

#include <string>

namespace synq::tun {

/// unshare(CLONE_NEWNET) for the calling process, then brings `lo` up.
/// Call it in a single-threaded child process (threads created later inherit
/// the namespace). Returns an empty string on success, else what failed.
std::string enter_new_netns();

/// Whether this process may create network namespaces and TUN devices: tries
/// both in a short-lived child, so the caller's namespace is never changed.
bool host_target_available(std::string* why = nullptr);

}  // namespace synq::tun
