// System calls: give the generic syscall AST its meaning, run it on the
// target, compare with the script. The runner, not the target, owns script
// descriptors and O_NONBLOCK, so both targets see the same non-blocking calls
// and blocking ones are retried here (packetdrill's `...` form).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "runner/script_run.hpp"
#include "synq/errno.hpp"

namespace synq::runner {

namespace {

using script::Expr;
using script::Syscall;

struct NamedValue {
  std::string_view name;
  int64_t value;
};
constexpr NamedValue kConstants[] = {
    {"AF_INET", AF_INET},
    {"PF_INET", AF_INET},
    {"SOCK_STREAM", SOCK_STREAM},
    {"SOCK_DGRAM", SOCK_DGRAM},
    {"SOCK_NONBLOCK", SOCK_NONBLOCK},
    {"IPPROTO_TCP", 6},
    {"IPPROTO_UDP", 17},
    {"IPPROTO_IP", 0},
    {"O_RDONLY", O_RDONLY},
    {"O_WRONLY", O_WRONLY},
    {"O_RDWR", O_RDWR},
    {"O_NONBLOCK", O_NONBLOCK},
    {"POLLIN", POLLIN},
    {"POLLPRI", POLLPRI},
    {"POLLOUT", POLLOUT},
    {"POLLERR", POLLERR},
    {"POLLHUP", POLLHUP},
    {"POLLNVAL", POLLNVAL},
    {"POLLRDHUP", POLLRDHUP},
    {"SHUT_RD", 0},
    {"SHUT_WR", 1},
    {"SHUT_RDWR", 2},
    {"MSG_DONTWAIT", MSG_DONTWAIT},
};

std::optional<int64_t> int_value(const Expr& e) {
  if (const auto* i = e.as_int()) return *i;
  if (const auto* w = e.as_word()) {
    for (const auto& c : kConstants)
      if (c.name == *w) return c.value;
    return std::nullopt;
  }
  if (const auto* o = std::get_if<script::OrExpr>(&e.v)) {
    int64_t v = 0;
    for (const auto& t : o->terms) {
      auto x = int_value(t);
      if (!x) return std::nullopt;
      v |= *x;
    }
    return v;
  }
  return std::nullopt;
}

// `[1]` → 1 (packetdrill writes an int option value as a one-item list).
std::optional<int64_t> list_int(const Expr& e) {
  if (const auto* l = std::get_if<script::ListExpr>(&e.v); l && l->items.size() == 1)
    return int_value(l->items[0]);
  return int_value(e);
}

const Expr* field(const script::StructExpr& s, std::string_view name) {
  for (const auto& f : s.fields)
    if (f.name == name) return &f.value;
  return nullptr;
}

std::optional<Opt> option_named(std::string_view n) {
  static constexpr std::pair<std::string_view, Opt> kOpts[] = {
      {"SO_REUSEADDR", Opt::so_reuseaddr},
      {"SO_RCVBUF", Opt::so_rcvbuf},
      {"SO_SNDBUF", Opt::so_sndbuf},
      {"SO_ERROR", Opt::so_error},
      {"SO_TYPE", Opt::so_type},
      {"SO_ACCEPTCONN", Opt::so_acceptconn},
      {"SO_LINGER", Opt::so_linger},
      {"TCP_NODELAY", Opt::tcp_nodelay},
      {"TCP_MAXSEG", Opt::tcp_maxseg},
      {"TCP_SYNCNT", Opt::tcp_syncnt},
      {"TCP_DEFER_ACCEPT", Opt::tcp_defer_accept},
  };
  for (const auto& [name, o] : kOpts)
    if (name == n) return o;
  return std::nullopt;
}

std::string errno_label(int e) {
  const char* name = ::strerrorname_np(e);
  return std::string(name ? name : "E?") + " (" + std::strerror(e) + ")";
}

// The errno a script names, by Linux number.
std::optional<int> errno_number(const std::string& name) {
  if (name == "EWOULDBLOCK") return EAGAIN;
  Errno e;
  if (errno_from_name(name, e)) return static_cast<int>(e);
  for (int i = 1; i < 150; ++i)
    if (const char* n = ::strerrorname_np(i); n && name == n) return i;
  return std::nullopt;
}

std::string outcome_text(const CallOutcome& o) {
  if (o.ret == -1 && o.err) return "= -1 " + errno_label(o.err);
  return "= " + std::to_string(o.ret);
}

}  // namespace

int ScriptRun::live_fd(const Expr& e) const {
  if (const auto* i = e.as_int())
    if (auto it = fds_.find(static_cast<int>(*i)); it != fds_.end()) return it->second;
  return -1;  // not open in the script: the target answers EBADF
}

bool ScriptRun::check_result(const script::Event& ev, const Syscall& sc, const CallOutcome& o,
                             bool returns_fd) {
  auto mismatch = [&](const std::string& what) {
    return fail(&ev, what, {"expected: " + sc.to_string(), "actual:   " + outcome_text(o)});
  };
  if (!sc.result.is_ellipsis()) {
    auto want = int_value(sc.result);
    if (!want) return fail(&ev, "cannot read the expected result " + sc.result.to_string());
    const bool both_fds = returns_fd && *want >= 0 && o.ret >= 0;
    if (!both_fds && *want != o.ret) return mismatch(sc.name + "() returned another value");
    if (*want == -1 && sc.errno_name) {
      auto num = errno_number(*sc.errno_name);
      if (!num) return fail(&ev, "unknown errno " + *sc.errno_name);
      if (*num != o.err) return mismatch(sc.name + "() failed with another errno");
    }
    if (returns_fd && both_fds) {
      fds_[static_cast<int>(*want)] = static_cast<int>(o.ret);
      nonblocking_[static_cast<int>(*want)] = false;
    }
  }
  return true;
}

bool ScriptRun::blocking_or_done(const script::Event& ev, const Syscall& sc, int script_fd,
                                 const Call& c, const CallOutcome& first,
                                 std::function<std::optional<CallOutcome>()> attempt,
                                 std::function<bool(const CallOutcome&)> finish) {
  const bool blocking_socket = !nonblocking_[script_fd];
  const bool would_block = first.ret == -1 && (first.err == EAGAIN || first.err == EINPROGRESS);
  const bool relative = ev.timing.kind == script::Timing::Kind::relative;
  // `+0...0.200`: the end is in the start's frame (packetdrill's rule).
  const Duration start_anchor = relative ? t_.now() - ev.timing.start : Duration(0);
  if (!blocking_socket || !would_block) {
    // `+0...0.000`: a "blocking" call whose end is now returns at once.
    const Duration end = start_anchor + ev.timing.blocking_until.value_or(Duration(0));
    const Duration late = t_.now() > end ? t_.now() - end : end - t_.now();
    if (ev.timing.blocking_until && late > tolerance(Duration(0)))
      return fail(&ev, "the script says this call blocks, but it returned at once",
                  {"expected: " + sc.to_string(), "actual:   " + outcome_text(first)});
    return finish(first);
  }
  if (!ev.timing.blocking_until)
    return fail(&ev,
                "the call blocks (a blocking socket); write it as `+t...end " + sc.name +
                    "(...)` or make the socket non-blocking",
                {"call: " + sc.to_string()});
  (void)c;
  Pending p;
  p.event = &ev;
  p.end = start_anchor + *ev.timing.blocking_until;
  p.tolerance = tolerance(p.end - t_.now());
  p.attempt = std::move(attempt);
  p.finish = std::move(finish);
  pending_ = std::move(p);
  return true;
}

bool ScriptRun::syscall(const script::Event& ev, const Syscall& sc) {
  // A new call waits for the one still blocked (packetdrill's await_idle_thread).
  if (pending_ && !finish_pending()) return false;
  const auto& a = sc.args;
  auto need_args = [&](size_t n) {
    if (a.size() >= n) return true;
    return fail(&ev, sc.name + "() needs " + std::to_string(n) + " arguments");
  };
  auto script_fd = [&]() -> int {
    const auto* i = a.empty() ? nullptr : a[0].as_int();
    return i ? static_cast<int>(*i) : -1;
  };
  auto simple = [&](const Call& c, bool returns_fd = false) {
    return check_result(ev, sc, t_.call(c), returns_fd);
  };
  Call c;
  const std::string& n = sc.name;

  if (n == "socket") {
    if (!need_args(3)) return false;
    auto type = int_value(a[1]);
    if (!type) return fail(&ev, "unknown socket type " + a[1].to_string());
    const int base = static_cast<int>(*type) & 0xf;
    if (base != SOCK_STREAM && base != SOCK_DGRAM)
      return fail(&ev, "only SOCK_STREAM and SOCK_DGRAM sockets");
    c.kind = Call::Kind::socket;
    c.value = base == SOCK_STREAM ? 1 : 2;
    CallOutcome o = t_.call(c);
    if (!check_result(ev, sc, o, true)) return false;
    if (const auto* want = sc.result.as_int(); want && *want >= 0)
      nonblocking_[static_cast<int>(*want)] = (*type & SOCK_NONBLOCK) != 0;
    return true;
  }
  if (n == "bind") {
    if (!need_args(1)) return false;
    c.kind = Call::Kind::bind;
    c.fd = live_fd(a[0]);
    c.endpoint = Endpoint{local_, kBindPort};
    return simple(c);
  }
  if (n == "listen") {
    if (!need_args(2)) return false;
    auto backlog = int_value(a[1]);
    if (!backlog) return fail(&ev, "listen() backlog must be a number");
    c.kind = Call::Kind::listen;
    c.fd = live_fd(a[0]);
    c.value = *backlog;
    return simple(c);
  }
  if (n == "accept" || n == "accept4") {
    if (!need_args(1)) return false;
    c.kind = Call::Kind::accept;
    c.fd = live_fd(a[0]);
    bool child_nonblocking = false;
    if (n == "accept4" && a.size() >= 4)
      child_nonblocking = (int_value(a[3]).value_or(0) & SOCK_NONBLOCK) != 0;
    auto attempt = [this, c]() -> std::optional<CallOutcome> {
      CallOutcome o = t_.call(c);
      if (o.ret == -1 && o.err == EAGAIN) return std::nullopt;
      return o;
    };
    auto finish = [this, &ev, &sc, child_nonblocking](const CallOutcome& o) {
      if (!check_result(ev, sc, o, true)) return false;
      if (const auto* want = sc.result.as_int(); want && *want >= 0)
        nonblocking_[static_cast<int>(*want)] = child_nonblocking;
      return true;
    };
    return blocking_or_done(ev, sc, script_fd(), c, t_.call(c), attempt, finish);
  }
  if (n == "connect") {
    if (!need_args(1)) return false;
    c.kind = Call::Kind::connect;
    c.fd = live_fd(a[0]);
    c.endpoint = Endpoint{remote_, kConnectPort};
    const int fd = c.fd;
    // A blocking connect returns when the handshake ends: writable, or an error.
    auto attempt = [this, fd]() -> std::optional<CallOutcome> {
      Call r;
      r.kind = Call::Kind::readiness;
      r.fd = fd;
      CallOutcome ready = t_.call(r);
      if (!(ready.ret & (POLLOUT | POLLERR | POLLHUP))) return std::nullopt;
      Call g;
      g.kind = Call::Kind::getsockopt;
      g.fd = fd;
      g.opt = Opt::so_error;
      CallOutcome err = t_.call(g);
      return err.out == 0 ? CallOutcome::ok() : CallOutcome::error(static_cast<int>(err.out));
    };
    auto finish = [this, &ev, &sc](const CallOutcome& o) { return check_result(ev, sc, o, false); };
    return blocking_or_done(ev, sc, script_fd(), c, t_.call(c), attempt, finish);
  }
  if (n == "read" || n == "recv" || n == "write" || n == "send") {
    if (!need_args(3)) return false;
    auto len = int_value(a[2]);
    if (!len || *len < 0) return fail(&ev, n + "() length must be a number");
    const bool reading = n == "read" || n == "recv";
    c.kind = reading ? Call::Kind::read : Call::Kind::write;
    c.fd = live_fd(a[0]);
    c.value = *len;
    if (!reading) return simple(c);
    auto attempt = [this, c]() -> std::optional<CallOutcome> {
      CallOutcome o = t_.call(c);
      if (o.ret == -1 && o.err == EAGAIN) return std::nullopt;
      return o;
    };
    auto finish = [this, &ev, &sc](const CallOutcome& o) { return check_result(ev, sc, o, false); };
    return blocking_or_done(ev, sc, script_fd(), c, t_.call(c), attempt, finish);
  }
  if (n == "close") {
    if (!need_args(1)) return false;
    c.kind = Call::Kind::close;
    c.fd = live_fd(a[0]);
    CallOutcome o = t_.call(c);
    if (o.ret == 0) {
      fds_.erase(script_fd());
      nonblocking_.erase(script_fd());
    }
    return check_result(ev, sc, o, false);
  }
  if (n == "shutdown") {
    if (!need_args(2)) return false;
    auto how = int_value(a[1]);
    if (!how) return fail(&ev, "shutdown() needs SHUT_RD, SHUT_WR or SHUT_RDWR");
    c.kind = Call::Kind::shutdown;
    c.fd = live_fd(a[0]);
    c.value = *how;
    return simple(c);
  }
  if (n == "setsockopt" || n == "getsockopt") {
    if (!need_args(4)) return false;
    const std::string* optname = a[2].as_word();
    auto opt = optname ? option_named(*optname) : std::nullopt;
    if (!opt) return fail(&ev, "unsupported socket option " + a[2].to_string());
    c.fd = live_fd(a[0]);
    c.opt = *opt;
    const auto* st = std::get_if<script::StructExpr>(&a[3].v);
    if (n == "setsockopt") {
      c.kind = Call::Kind::setsockopt;
      if (*opt == Opt::so_linger) {
        const Expr* on = st ? field(*st, "onoff") : nullptr;
        const Expr* secs = st ? field(*st, "linger") : nullptr;
        if (!on || !secs) return fail(&ev, "SO_LINGER takes {onoff=N, linger=N}");
        c.linger_on = int_value(*on).value_or(0) != 0;
        c.value = int_value(*secs).value_or(0);
      } else {
        auto v = list_int(a[3]);
        if (!v) return fail(&ev, "option value must be [N]");
        c.value = *v;
      }
      return simple(c);
    }
    c.kind = Call::Kind::getsockopt;
    CallOutcome o = t_.call(c);
    if (!check_result(ev, sc, o, false)) return false;
    if (o.ret != 0) return true;
    auto value_mismatch = [&](const std::string& got) {
      return fail(&ev, "getsockopt() returned another value",
                  {"expected: " + sc.to_string(), "actual:   " + got});
    };
    if (*opt == Opt::so_linger) {
      if (!st) return true;
      const Expr* on = field(*st, "onoff");
      const Expr* secs = field(*st, "linger");
      if ((on && int_value(*on) && (*int_value(*on) != 0) != (o.out2 != 0)) ||
          (secs && int_value(*secs) && *int_value(*secs) != o.out))
        return value_mismatch("{onoff=" + std::to_string(o.out2) +
                              ", linger=" + std::to_string(o.out) + "}");
      return true;
    }
    if (auto v = list_int(a[3]); v && *v != o.out)
      return value_mismatch("[" + std::to_string(o.out) + "]");
    return true;
  }
  if (n == "fcntl") {
    if (!need_args(2)) return false;
    const std::string* cmd = a[1].as_word();
    const int fd = script_fd();
    if (!fds_.count(fd)) return check_result(ev, sc, CallOutcome::error(EBADF), false);
    if (cmd && *cmd == "F_GETFL")
      return check_result(ev, sc, CallOutcome::ok(O_RDWR | (nonblocking_[fd] ? O_NONBLOCK : 0)),
                          false);
    if (cmd && *cmd == "F_SETFL" && a.size() >= 3) {
      auto flags = int_value(a[2]);
      if (!flags) return fail(&ev, "unknown fcntl flags " + a[2].to_string());
      nonblocking_[fd] = (*flags & O_NONBLOCK) != 0;
      return check_result(ev, sc, CallOutcome::ok(), false);
    }
    return fail(&ev, "fcntl() supports F_GETFL and F_SETFL");
  }
  if (n == "ioctl") {
    if (!need_args(3)) return false;
    const std::string* req = a[1].as_word();
    if (!req || (*req != "FIONREAD" && *req != "SIOCINQ"))
      return fail(&ev, "ioctl() supports FIONREAD");
    c.kind = Call::Kind::fionread;
    c.fd = live_fd(a[0]);
    CallOutcome o = t_.call(c);
    if (!check_result(ev, sc, o, false)) return false;
    if (auto v = list_int(a[2]); v && o.ret == 0 && *v != o.out)
      return fail(&ev, "ioctl(FIONREAD) returned another value",
                  {"expected: " + sc.to_string(), "actual:   [" + std::to_string(o.out) + "]"});
    return true;
  }
  if (n == "poll") {
    if (!need_args(3)) return false;
    const auto* list = std::get_if<script::ListExpr>(&a[0].v);
    auto timeout = int_value(a[2]);
    if (!list || !timeout) return fail(&ev, "poll() takes [{fd=N, events=...}], n, timeout");
    struct Entry {
      int fd;
      int64_t events;
      const Expr* revents;
    };
    std::vector<Entry> entries;
    for (const auto& item : list->items) {
      const auto* st = std::get_if<script::StructExpr>(&item.v);
      const Expr* fd = st ? field(*st, "fd") : nullptr;
      const Expr* events = st ? field(*st, "events") : nullptr;
      if (!fd || !events || !int_value(*events))
        return fail(&ev, "poll() entry needs fd and events");
      entries.push_back({live_fd(*fd), *int_value(*events), field(*st, "revents")});
    }
    auto evaluate = [this, entries](std::vector<int64_t>* revents) {
      int64_t count = 0;
      revents->clear();
      for (const auto& e : entries) {
        Call r;
        r.kind = Call::Kind::readiness;
        r.fd = e.fd;
        CallOutcome o = t_.call(r);
        int64_t got = o.ret < 0 ? POLLNVAL : (o.ret & (e.events | POLLERR | POLLHUP));
        revents->push_back(got);
        if (got) ++count;
      }
      return count;
    };
    auto finish = [this, &ev, &sc, entries](int64_t count, const std::vector<int64_t>& revents) {
      if (!check_result(ev, sc, CallOutcome::ok(count), false)) return false;
      for (size_t i = 0; i < entries.size(); ++i) {
        if (!entries[i].revents) continue;
        auto want = int_value(*entries[i].revents);
        if (want && *want != revents[i])
          return fail(
              &ev, "poll() revents differ",
              {"expected: " + sc.to_string(),
               "actual:   entry " + std::to_string(i) + " revents=" + std::to_string(revents[i])});
      }
      return true;
    };
    std::vector<int64_t> revents;
    int64_t count = evaluate(&revents);
    if (count > 0 || *timeout == 0 || !ev.timing.blocking_until) {
      if (ev.timing.blocking_until && count == 0 && *timeout != 0)
        return fail(&ev, "poll() with a timeout needs the `...` form");
      return finish(count, revents);
    }
    // A blocking poll: returns when an entry is ready, or 0 at its timeout.
    const Duration deadline = t_.now() + std::chrono::milliseconds(*timeout);
    Pending p;
    p.event = &ev;
    const bool relative = ev.timing.kind == script::Timing::Kind::relative;
    p.end = (relative ? t_.now() - ev.timing.start : Duration(0)) + *ev.timing.blocking_until;
    p.tolerance = tolerance(p.end - t_.now());
    auto shared = std::make_shared<std::vector<int64_t>>();
    p.attempt = [this, evaluate, deadline, timeout, shared]() -> std::optional<CallOutcome> {
      int64_t k = evaluate(shared.get());
      if (k > 0 || (*timeout > 0 && t_.now() >= deadline)) return CallOutcome::ok(k);
      return std::nullopt;
    };
    p.finish = [finish, shared](const CallOutcome& o) { return finish(o.ret, *shared); };
    pending_ = std::move(p);
    return true;
  }
  return fail(&ev, "unsupported system call " + n + "()");
}

}  // namespace synq::runner
