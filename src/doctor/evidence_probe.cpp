// Loads listen_evidence.bpf.c (embedded in the skeleton bpftool generated at
// build time), attaches each program and reads the per-listener map.
#include "doctor/evidence_probe.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <tuple>

#include <fmt/format.h>

#include "doctor/bpf/listen_evidence.h"
#include "listen_evidence.skel.h"

namespace synq::doctor {

namespace {

constexpr const char* kStillShown = "queues, knobs and counters are still shown";
constexpr const char* kBtfPath = "/sys/kernel/btf/vmlinux";

// libbpf prints its diagnostics to stderr by default. doctor's output is the
// report, so libbpf's lines are kept (the last one explains a failure in
// *why) and never printed.
std::mutex g_libbpf_log_mutex;
std::string g_libbpf_first_message;

int keep_libbpf_message(enum libbpf_print_level level, const char* format, va_list args) {
  // SYNQ_DOCTOR_BPF_DEBUG=1 shows everything libbpf says, verifier logs too.
  static const bool debug = std::getenv("SYNQ_DOCTOR_BPF_DEBUG") != nullptr;
  if (debug) {
    va_list copy;
    va_copy(copy, args);
    std::vfprintf(stderr, format, copy);
    va_end(copy);
  }
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = std::vsnprintf(line, sizeof line, format, args);
  if (n <= 0) return 0;
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::lock_guard lock(g_libbpf_log_mutex);
  // The first line of a failure names the program and the cause; the later
  // ones only say that the object, then the skeleton, failed.
  if (g_libbpf_first_message.empty()) g_libbpf_first_message = std::move(text);
  return 0;
}

std::string first_libbpf_message() {
  std::lock_guard lock(g_libbpf_log_mutex);
  return g_libbpf_first_message;
}

void clear_libbpf_message() {
  std::lock_guard lock(g_libbpf_log_mutex);
  g_libbpf_first_message.clear();
}

std::string unavailable(const std::string& what) {
  return fmt::format("per-port kernel evidence unavailable: {}; {}", what, kStillShown);
}

// A permission failure says which privilege is missing; anything else keeps
// libbpf's own explanation.
std::string load_failure(int err) {
  if ((err == EPERM || err == EACCES) && geteuid() != 0)
    return unavailable("loading BPF needs root (CAP_BPF and CAP_PERFMON)");
  // As root, EPERM is the verifier or a lockdown refusing a program: libbpf
  // says which.
  std::string detail = first_libbpf_message();
  if (detail.empty()) detail = std::strerror(err);
  return unavailable(fmt::format("loading the BPF programs failed: {}", detail));
}

std::string attach_failure(const bpf_program* prog, int err) {
  const char* section = bpf_program__section_name(prog);
  if (err == EPERM || err == EACCES)
    return unavailable(fmt::format("attaching {} needs root (CAP_BPF and CAP_PERFMON)", section));
  std::string detail = first_libbpf_message();
  if (detail.empty()) detail = std::strerror(err);
  if (err == ENOENT)
    return unavailable(fmt::format("hook {} does not exist on this kernel ({})", section, detail));
  // A raw tracepoint with fewer arguments than the program reads (kfree_skb
  // has rx_sk since 6.11) refuses the program with EINVAL.
  if (err == EINVAL)
    return unavailable(fmt::format("hook {} differs on this kernel ({})", section, detail));
  return unavailable(fmt::format("attaching {} failed: {}", section, detail));
}

// The cgroup v2 hierarchy's root as this process sees it (/proc/self/mounts):
// the ingress program attached there runs for every listener below it.
std::string cgroup2_root() {
  std::ifstream mounts("/proc/self/mounts");
  std::string device, dir, type, rest;
  while (mounts >> device >> dir >> type && std::getline(mounts, rest))
    if (type == "cgroup2") return dir;
  return {};
}

SocketAddress address_of(const listen_evidence_key& k) {
  SocketAddress a;
  a.family = k.family;
  std::memcpy(a.addr.data(), k.addr, sizeof k.addr);
  a.port = k.port;
  return a;
}

void add_counts(ListenerEvidence& into, const listen_evidence_value& v) {
  into.syns += v.syns;
  into.syn_drops_accept_queue += v.syn_drops_accept_queue;
  into.syn_drops_syn_queue += v.syn_drops_syn_queue;
  into.syn_drops_other += v.syn_drops_other;
  into.ack_overflows += v.ack_overflows;
  into.rst_on_overflow += v.rst_on_overflow;
  into.synack_retransmits += v.synack_retransmits;
  into.cookies_sent += v.cookies_sent;
  into.cookies_validated += v.cookies_validated;
  into.completions += v.completions;
  into.accepts += v.accepts;
  // High-water marks are per CPU: the listener's is the largest; the backlog
  // is the same on every CPU that saw an event (0 on the others).
  into.accept_queue_max = std::max(into.accept_queue_max, v.accept_queue_max);
  into.syn_queue_max = std::max(into.syn_queue_max, v.syn_queue_max);
  into.backlog = std::max(into.backlog, v.backlog);
}

void add_evidence(ListenerEvidence& into, const ListenerEvidence& e) {
  listen_evidence_value v{};
  v.syns = e.syns;
  v.syn_drops_accept_queue = e.syn_drops_accept_queue;
  v.syn_drops_syn_queue = e.syn_drops_syn_queue;
  v.syn_drops_other = e.syn_drops_other;
  v.ack_overflows = e.ack_overflows;
  v.rst_on_overflow = e.rst_on_overflow;
  v.synack_retransmits = e.synack_retransmits;
  v.cookies_sent = e.cookies_sent;
  v.cookies_validated = e.cookies_validated;
  v.completions = e.completions;
  v.accepts = e.accepts;
  v.accept_queue_max = e.accept_queue_max;
  v.syn_queue_max = e.syn_queue_max;
  v.backlog = e.backlog;
  add_counts(into, v);
}

}  // namespace

struct EvidenceProbe::Impl {
  listen_evidence* skel = nullptr;
  std::vector<bpf_link*> links;
  ~Impl() {
    for (bpf_link* l : links) bpf_link__destroy(l);
    if (skel) listen_evidence__destroy(skel);
  }
};

EvidenceProbe::EvidenceProbe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EvidenceProbe::~EvidenceProbe() = default;

std::unique_ptr<EvidenceProbe> EvidenceProbe::start(std::string* why) {
  auto fail = [why](std::string text) -> std::unique_ptr<EvidenceProbe> {
    if (why) *why = std::move(text);
    return nullptr;
  };
  if (const char* off = std::getenv("SYNQ_DOCTOR_NO_BPF"); off && *off && std::strcmp(off, "0"))
    return fail(
        fmt::format("per-port kernel evidence disabled by SYNQ_DOCTOR_NO_BPF; {}", kStillShown));
  // CO-RE needs the running kernel's type information.
  if (access(kBtfPath, R_OK) != 0)
    return fail(
        unavailable(fmt::format("this kernel has no BTF ({}: {}; it needs "
                                "CONFIG_DEBUG_INFO_BTF)",
                                kBtfPath, std::strerror(errno))));

  // libbpf ≥ 1.0 raises RLIMIT_MEMLOCK by itself, and only on kernels that
  // still charge BPF memory to it (before memcg accounting, 5.11).
  libbpf_set_print(keep_libbpf_message);
  clear_libbpf_message();

  auto impl = std::make_unique<Impl>();
  impl->skel = listen_evidence__open();
  if (!impl->skel) return fail(load_failure(errno));
  if (int err = listen_evidence__load(impl->skel); err != 0) return fail(load_failure(-err));

  // The SYN-time view needs the listener as each segment reaches it: a
  // cgroup_skb ingress program on the cgroup v2 root (sk_filter runs it with
  // the listener as skb->sk, in tcp_v4_rcv/tcp_v6_rcv's tcp_filter).
  const std::string cgroup_root = cgroup2_root();
  if (cgroup_root.empty())
    return fail(
        unavailable("no cgroup v2 hierarchy is mounted (/proc/self/mounts has no cgroup2), "
                    "which the SYN-time view attaches to"));
  const int cgroup_fd = open(cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd < 0)
    return fail(unavailable(fmt::format("open {}: {}", cgroup_root, std::strerror(errno))));

  // One program at a time, so a hook this kernel lacks is named.
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, impl->skel->obj) {
    bpf_link* link = bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SKB
                         ? bpf_program__attach_cgroup(prog, cgroup_fd)
                         : bpf_program__attach(prog);
    if (!link) {
      const int err = errno;
      close(cgroup_fd);
      return fail(attach_failure(prog, err));
    }
    impl->links.push_back(link);
  }
  close(cgroup_fd);
  return std::unique_ptr<EvidenceProbe>(new EvidenceProbe(std::move(impl)));
}

std::vector<ListenerEvidence> EvidenceProbe::read() const {
  const int fd = bpf_map__fd(impl_->skel->maps.listeners);
  const int cpus = libbpf_num_possible_cpus();
  std::vector<ListenerEvidence> found;
  if (fd < 0 || cpus <= 0) return found;

  // A per-CPU map's lookup fills one value per possible CPU, each rounded up
  // to 8 bytes (listen_evidence_value already is a multiple of 8).
  static_assert(sizeof(listen_evidence_value) % 8 == 0);
  std::vector<listen_evidence_value> per_cpu(static_cast<size_t>(cpus));
  listen_evidence_key key{};
  listen_evidence_key next{};
  bool first = true;
  while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) continue;  // evicted meanwhile
    ListenerEvidence e;
    e.cookie = key.cookie;
    e.netns_inode = key.netns_inum;
    e.local = address_of(key);
    for (const auto& v : per_cpu) add_counts(e, v);
    found.push_back(e);
  }

  // Events before inet_diag first dumped a listener are keyed with cookie 0;
  // they belong to the one listener with that address that has a cookie
  // now. With several (SO_REUSEPORT) they stay apart: which one is unknown.
  using Where = std::tuple<uint64_t, int, std::array<uint8_t, 16>, uint16_t>;
  auto where = [](const ListenerEvidence& e) {
    return Where{e.netns_inode, e.local.family, e.local.addr, e.local.port};
  };
  std::map<Where, std::vector<size_t>> with_cookie;
  for (size_t i = 0; i < found.size(); ++i)
    if (found[i].cookie != 0) with_cookie[where(found[i])].push_back(i);
  std::vector<ListenerEvidence> merged;
  std::vector<bool> folded(found.size(), false);
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].cookie != 0) continue;
    auto it = with_cookie.find(where(found[i]));
    if (it != with_cookie.end() && it->second.size() == 1) {
      add_evidence(found[it->second.front()], found[i]);
      folded[i] = true;
    }
  }
  for (size_t i = 0; i < found.size(); ++i)
    if (!folded[i]) merged.push_back(found[i]);
  return merged;
}

}  // namespace synq::doctor
