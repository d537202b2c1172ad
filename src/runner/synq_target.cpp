#include "runner/synq_target.hpp"

#include <poll.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <variant>
#include <vector>

#include "script/shell_block.hpp"

namespace synq::runner {

namespace {

std::optional<SockOpt> stack_option(Opt o) {
  switch (o) {
    case Opt::so_reuseaddr:
      return SockOpt::so_reuseaddr;
    case Opt::so_rcvbuf:
      return SockOpt::so_rcvbuf;
    case Opt::so_sndbuf:
      return SockOpt::so_sndbuf;
    case Opt::so_error:
      return SockOpt::so_error;
    case Opt::so_type:
      return SockOpt::so_type;
    case Opt::so_acceptconn:
      return SockOpt::so_acceptconn;
    case Opt::tcp_nodelay:
      return SockOpt::tcp_nodelay;
    case Opt::tcp_maxseg:
      return SockOpt::tcp_maxseg;
    case Opt::tcp_syncnt:
      return SockOpt::tcp_syncnt;
    case Opt::tcp_defer_accept:
      return SockOpt::tcp_defer_accept;
    case Opt::so_linger:
      return std::nullopt;
  }
  return std::nullopt;
}

CallOutcome from(Errno e) {
  return e == Errno::ok ? CallOutcome::ok() : CallOutcome::error(static_cast<int>(e));
}
template <class T>
CallOutcome from(const Result<T>& r) {
  if (!r.ok()) return CallOutcome::error(static_cast<int>(r.error()));
  return CallOutcome::ok(static_cast<int64_t>(r.value()));
}

// The file a command block runs when it is nothing but a path ("./x.sh",
// "../common/defaults.sh"), relative to the script; else empty.
std::string command_script_path(const std::string& command, const std::string& dir) {
  std::string c = command;
  while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.pop_back();
  size_t i = 0;
  while (i < c.size() && (c[i] == ' ' || c[i] == '\t')) ++i;
  c = c.substr(i);
  if (c.empty() || c.find_first_of(" \t;&|<>$`'\"") != std::string::npos) return {};
  if (c.find('/') == std::string::npos) return {};  // a program on PATH, not a file
  if (c[0] == '/' || dir.empty()) return c;
  return dir + "/" + c;
}

// `$((15*1024*1024))` → `15728640`: the shell arithmetic packetdrill's
// defaults.sh uses in sysctl values (integers with + - *, no spaces needed).
std::string expand_arithmetic(const std::string& text) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t open = text.find("$((", pos);
    const size_t close = open == std::string::npos ? open : text.find("))", open);
    if (close == std::string::npos) break;
    const std::string expr = text.substr(open + 3, close - open - 3);
    int64_t sum = 0, term = 1, num = 0;
    int sign = 1;
    bool ok = !expr.empty(), have_num = false;
    for (char ch : expr + "+") {
      if (ch >= '0' && ch <= '9') {
        num = num * 10 + (ch - '0');
        have_num = true;
      } else if (ch == '*' || ch == '+' || ch == '-') {
        if (!have_num) ok = false;
        term *= num;
        num = 0;
        have_num = false;
        if (ch != '*') {
          sum += sign * term;
          term = 1;
          sign = ch == '-' ? -1 : 1;
        }
      } else if (ch != ' ') {
        ok = false;
      }
    }
    out += text.substr(pos, open - pos);
    out += ok ? std::to_string(sum) : text.substr(open, close + 2 - open);
    pos = close + 2;
  }
  return out + text.substr(pos);
}

StackConfig stack_config(const SynqTargetConfig& c) {
  StackConfig sc;
  sc.addresses = {c.local};
  sc.seed = c.seed;
  sc.name = "synq";
  sc.sysctls.listen_model = c.model;
  return sc;
}

}  // namespace

SynqTarget::SynqTarget(const SynqTargetConfig& config)
    : config_(config), stack_(stack_config(config)) {}

void SynqTarget::drain() {
  stack_.drain_output([this](std::span<const uint8_t> p) {
    out_.push_back(OutPacket{now_, std::vector<uint8_t>(p.begin(), p.end())});
  });
}

std::optional<OutPacket> SynqTarget::wait_packet(Duration until) {
  drain();
  if (out_.empty()) {
    // One timer step at a time, so the runner can retry blocked calls
    // between timers that send nothing (an expiring request, a failed connect).
    const Time next = stack_.next_deadline();
    if (next <= until) {
      now_ = std::max(now_, next);
      stack_.advance(now_);
      drain();
    } else if (until > now_) {
      now_ = until;
      stack_.advance(now_);
      drain();
    }
  }
  if (out_.empty()) return std::nullopt;
  OutPacket p = std::move(out_.front());
  out_.pop_front();
  return p;
}

std::string SynqTarget::inject(std::span<const uint8_t> ip_packet) {
  stack_.input(now_, ip_packet);
  drain();
  return {};
}

CallOutcome SynqTarget::call(const Call& c) {
  CallOutcome o;
  switch (c.kind) {
    case Call::Kind::socket:
      // The script's IP version decides the family (packetdrill opens
      // AF_INET6 sockets for --ip_version=ipv6).
      o = from(
          stack_.socket(c.value == 1 ? SockType::stream : SockType::dgram, config_.local.version));
      break;
    case Call::Kind::bind:
      o = from(stack_.bind(c.fd, c.endpoint));
      break;
    case Call::Kind::listen:
      o = from(stack_.listen(c.fd, static_cast<int>(c.value)));
      break;
    case Call::Kind::accept:
      o = from(stack_.accept(c.fd));
      break;
    case Call::Kind::connect: {
      Errno e = stack_.connect(c.fd, c.endpoint);
      o = e == Errno::ok ? CallOutcome::ok() : CallOutcome::error(static_cast<int>(e));
      break;
    }
    case Call::Kind::read: {
      std::vector<uint8_t> buf(static_cast<size_t>(c.value));
      o = from(stack_.recv(c.fd, buf));
      break;
    }
    case Call::Kind::write: {
      std::vector<uint8_t> buf(static_cast<size_t>(c.value), 0);
      o = from(stack_.send(c.fd, buf));
      break;
    }
    case Call::Kind::close:
      o = from(stack_.close(c.fd));
      break;
    case Call::Kind::shutdown:
      if (c.value < 0 || c.value > 2) {
        o = CallOutcome::error(static_cast<int>(Errno::einval));
        break;
      }
      o = from(stack_.shutdown(c.fd, static_cast<ShutdownHow>(c.value)));
      break;
    case Call::Kind::setsockopt:
      if (c.opt == Opt::so_linger) {
        o = from(stack_.set_linger(c.fd, Linger{c.linger_on, static_cast<int>(c.value)}));
      } else if (auto so = stack_option(c.opt)) {
        o = from(stack_.setsockopt(c.fd, *so, static_cast<int>(c.value)));
      } else {
        o = CallOutcome::error(static_cast<int>(Errno::enoprotoopt));
      }
      break;
    case Call::Kind::getsockopt:
      if (c.opt == Opt::so_linger) {
        auto l = stack_.get_linger(c.fd);
        if (!l.ok()) {
          o = CallOutcome::error(static_cast<int>(l.error()));
        } else {
          o = CallOutcome::ok();
          o.out = l->seconds;
          o.out2 = l->on ? 1 : 0;
        }
      } else if (auto so = stack_option(c.opt)) {
        auto v = stack_.getsockopt(c.fd, *so);
        if (!v.ok()) {
          o = CallOutcome::error(static_cast<int>(v.error()));
        } else {
          o = CallOutcome::ok();
          o.out = *v;
        }
      } else {
        o = CallOutcome::error(static_cast<int>(Errno::enoprotoopt));
      }
      break;
    case Call::Kind::readiness: {
      auto r = stack_.poll(c.fd);
      if (!r.ok()) return CallOutcome::error(static_cast<int>(r.error()));
      int64_t bits = 0;
      if (*r & kReadable) bits |= POLLIN;
      if (*r & kWritable) bits |= POLLOUT;
      if (*r & kError) bits |= POLLERR;
      if (*r & kHangup) bits |= POLLHUP;
      if (*r & kRdHangup) bits |= POLLRDHUP;
      return CallOutcome::ok(bits);
    }
    case Call::Kind::fionread: {
      auto r = stack_.readable_bytes(c.fd);
      if (!r.ok()) return CallOutcome::error(static_cast<int>(r.error()));
      o = CallOutcome::ok();
      o.out = static_cast<int64_t>(*r);
      break;
    }
  }
  drain();  // connect sends a SYN, close a FIN or RST...
  return o;
}

std::string SynqTarget::set_sysctl(std::string_view name, std::string_view value) {
  std::string err;
  if (!stack_.sysctls().set(name, value, &err)) return err.empty() ? "unknown knob" : err;
  return {};
}

std::string SynqTarget::run_shell(const std::string& command) {
  // synq has no shell: a script's non-sysctl commands configure a host, not
  // synq. A command that is just the path of a shell script (packetdrill's
  // `../common/defaults.sh`) is read for its sysctl lines, which are the
  // part that concerns a TCP stack; knobs synq does not model are listed.
  const std::string path = command_script_path(command, config_.script_dir);
  std::ifstream f(path);
  if (path.empty() || !f)
    return "runs only with --target linux: synq has no shell (on the synq target a "
           "backtick block may hold `sysctl -q net.X=Y` lines or the path of a shell script "
           "whose sysctl lines are applied)";
  std::stringstream text;
  text << f.rdbuf();
  std::string applied, unknown;
  for (const auto& item : script::split_shell_block(expand_arithmetic(text.str()), 1).items) {
    const auto* set = std::get_if<script::SysctlSet>(&item);
    if (!set) continue;
    std::string err;
    std::string& list = stack_.sysctls().set(set->name, set->value, &err) ? applied : unknown;
    list += (list.empty() ? "" : " ") + set->name;
  }
  return "skipped on the synq target but for its sysctls (applied: " +
         (applied.empty() ? "none" : applied) +
         "; not modelled: " + (unknown.empty() ? "none" : unknown) + ")";
}

}  // namespace synq::runner
