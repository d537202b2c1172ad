#include "doctor/sock_diag.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "doctor/host_reader.hpp"

namespace synq::doctor {

namespace {

struct MnlSocketCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlSocketCloser>;

HostReadError netlink_error(const char* call, int err) {
  return HostReadError(fmt::format("sock_diag: {} failed: {}", call, std::strerror(err)));
}

struct DumpState {
  std::vector<DiagSocket>* out = nullptr;
};

/// One inet_diag_msg. Which field means what for each kind of socket:
/// - LISTEN: net/ipv4/tcp_diag.c, tcp_diag_get_info sets idiag_rqueue to
///   sk_ack_backlog (the accept queue) and idiag_wqueue to
///   sk_max_ack_backlog (the backlog in force, already min(backlog,
///   somaxconn) by __sys_listen_socket); inet_sk_diag_fill calls it whether
///   or not INET_DIAG_INFO was asked for.
/// - SYN-RECV request sockets: net/ipv4/inet_diag.c, inet_req_diag_fill
///   reports state TCP_SYN_RECV, zero queues and inode, and the request's
///   own cookie; the local address/port are the ones the SYN was sent to.
/// - net/ipv4/inet_diag.c, inet_diag_msg_attrs_fill puts INET_DIAG_SKV6ONLY
///   on every AF_INET6 socket in LISTEN or CLOSE, unasked (idiag_ext has only
///   8 bits and cannot ask for it).
int on_message(const nlmsghdr* nlh, void* data) {
  auto* state = static_cast<DumpState*>(data);
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(inet_diag_msg)) return MNL_CB_OK;
  const auto* msg = static_cast<const inet_diag_msg*>(mnl_nlmsg_get_payload(nlh));
  DiagSocket s;
  s.local.family = msg->idiag_family;
  size_t addr_len = msg->idiag_family == AF_INET6 ? 16 : 4;
  std::memcpy(s.local.addr.data(), msg->id.idiag_src, addr_len);
  s.local.port = ntohs(msg->id.idiag_sport);
  s.state = msg->idiag_state;
  s.cookie = uint64_t(msg->id.idiag_cookie[0]) | (uint64_t(msg->id.idiag_cookie[1]) << 32);
  s.inode = msg->idiag_inode;
  s.uid = msg->idiag_uid;
  s.rqueue = msg->idiag_rqueue;
  s.wqueue = msg->idiag_wqueue;
  // mnl_attr_for_each spelled out: its void* arithmetic is C, not C++.
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  for (const auto* attr =
           static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(inet_diag_msg)));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) == INET_DIAG_SKV6ONLY &&
        mnl_attr_get_payload_len(attr) >= sizeof(uint8_t)) {
      s.v6only = mnl_attr_get_u8(attr) != 0;
    }
  }
  state->out->push_back(s);
  return MNL_CB_OK;
}

}  // namespace

std::vector<DiagSocket> dump_tcp_sockets(int family, uint32_t state_mask) {
  MnlSocket nl(mnl_socket_open(NETLINK_SOCK_DIAG));
  if (!nl) throw netlink_error("mnl_socket_open(NETLINK_SOCK_DIAG)", errno);
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    throw netlink_error("mnl_socket_bind", errno);
  }

  // A dump answer can be as large as the kernel's dump skb (up to 32 KiB
  // per datagram, net/netlink/af_netlink.c netlink_dump); a smaller buffer
  // would truncate it.
  std::vector<char> buf(1 << 16);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  const uint32_t seq = 1;
  nlh->nlmsg_seq = seq;
  auto* req =
      static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
  req->sdiag_family = static_cast<uint8_t>(family);
  req->sdiag_protocol = IPPROTO_TCP;
  // The state filter also matches TCP_NEW_SYN_RECV request sockets when the
  // TCP_SYN_RECV bit is set (net/ipv4/inet_diag.c / tcp_diag.c, the dump
  // functions widen idiag_states with TCPF_NEW_SYN_RECV).
  req->idiag_states = state_mask;
  req->idiag_ext = 0;

  if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) {
    throw netlink_error("sendto(SOCK_DIAG_BY_FAMILY)", errno);
  }
  std::vector<DiagSocket> out;
  DumpState state{&out};
  const uint32_t portid = mnl_socket_get_portid(nl.get());
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) throw netlink_error("recvfrom(NETLINK_SOCK_DIAG)", errno);
    int ret = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, on_message, &state);
    if (ret == MNL_CB_STOP) break;  // NLMSG_DONE
    if (ret < 0) throw netlink_error("SOCK_DIAG_BY_FAMILY dump", errno);
  }
  return out;
}

}  // namespace synq::doctor
