#include "doctor/snapshot.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace synq::doctor {

std::string SocketAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET6) {
    inet_ntop(AF_INET6, addr.data(), text, sizeof text);
    return fmt::format("[{}]:{}", text, port);
  }
  inet_ntop(AF_INET, addr.data(), text, sizeof text);
  return fmt::format("{}:{}", text, port);
}

}  // namespace synq::doctor
