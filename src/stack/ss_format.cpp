// format_ss: the `ss -lnt` / `ss -tan` look, for views, labs and tests.
#include <string>

#include <fmt/format.h>

#include "synq/stack.hpp"

namespace synq {

namespace {

// ss(8) spells CLOSE, SYN-RECV and ESTAB its own way; other states as RFC 9293 does.
std::string_view ss_state(const SocketInfo& s) {
  if (s.type == SockType::dgram) return "UNCONN";
  switch (s.state) {
    case TcpState::closed:
      return "CLOSE";
    case TcpState::syn_received:
      return "SYN-RECV";
    case TcpState::established:
      return "ESTAB";
    default:
      return tcp_state_name(s.state);
  }
}

std::string local_text(const SocketInfo& s) {
  if (s.local.addr.is_unspecified()) return fmt::format("*:{}", s.local.port);
  return s.local.to_string();
}

std::string peer_text(const SocketInfo& s) {
  if (s.state == TcpState::listen || (s.remote.port == 0 && s.remote.addr.is_unspecified()))
    return "*:*";
  return s.remote.to_string();
}

}  // namespace

std::string format_ss(const std::vector<SocketInfo>& sockets, bool listening_only) {
  std::string out = fmt::format("{:<11}{:>7}{:>7}  {:<24}{:<24}{}\n", "State", "Recv-Q", "Send-Q",
                                "Local Address:Port", "Peer Address:Port", "Model");
  for (const SocketInfo& s : sockets) {
    if (s.type != SockType::stream) continue;
    if (listening_only && s.state != TcpState::listen) continue;
    std::string line = fmt::format("{:<11}{:>7}{:>7}  {:<24}{:<24}{}", ss_state(s), s.recv_q,
                                   s.send_q, local_text(s), peer_text(s), s.model);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  return out;
}

}  // namespace synq
