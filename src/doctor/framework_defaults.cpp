#include "doctor/framework_defaults.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace synq::doctor {

namespace {

// Sources: the issue/PR threads collected in shared/research/backlog-in-the-wild.md,
// and the runtime's own file where it was read (search tool, public sources).
constexpr RuntimeDefault kDefaults[] = {
    {"python", "Python socketserver / http.server", 5,
     "subclass the server and set request_queue_size = N",
     "cpython Lib/socketserver.py (TCPServer.request_queue_size = 5); "
     "superradcompany/microsandbox 745, xroche/httrack 538"},
    {"python", "Python asyncio create_server / start_server", 100,
     "loop.create_server(..., backlog=N) / asyncio.start_server(..., backlog=N)",
     "cpython Lib/asyncio/base_events.py (create_server backlog=100); giampaolo/pyftpdlib 297"},
    {"python", "Python socket.listen() / socket.create_server() without a backlog", 128,
     "sock.listen(N) / socket.create_server(addr, backlog=N)",
     "cpython Modules/socketmodule.c (sock_listen: min(SOMAXCONN, 128)); python/cpython PR 12735"},
    {"gunicorn", "gunicorn", 2048, "gunicorn --backlog N (config: backlog = N)",
     "gunicorn docs, settings 'backlog' (default 2048); Kludex/uvicorn 544"},
    {"uvicorn", "uvicorn", 2048, "uvicorn --backlog N",
     "uvicorn docs, settings '--backlog' (default 2048); Kludex/uvicorn 544"},
    {"node", "Node.js net.Server", 511, "server.listen({port, host, backlog: N})",
     "Node.js docs net.md server.listen (backlog default 511); nodejs/node 41622"},
    {"java", "Java ServerSocket", 50, "new ServerSocket(port, N)",
     "java.net.ServerSocket javadoc (default 50); woowacourse/java-http PR 765"},
    {"java", "Tomcat (acceptCount)", 100,
     "server.xml <Connector acceptCount=\"N\"> "
     "(Spring Boot: server.tomcat.accept-count=N)",
     "Tomcat HTTP connector docs (acceptCount default 100); DataDog/the-monitor 137"},
    {"java", "Akka HTTP", 100, "akka.http.server.backlog = N", "akka/akka 17395"},
    {"java", "grpc-java (Netty)", 128, "NettyServerBuilder option ChannelOption.SO_BACKLOG",
     "grpc/grpc-java 2321"},
    {"nginx", "nginx", 511, "listen 80 backlog=N;",
     "nginx src/os/unix/ngx_linux_config.h (NGX_LISTEN_BACKLOG 511; -1 on FreeBSD/macOS); "
     "apache/apisix 1456"},
    {"redis", "Redis", 511, "tcp-backlog N (redis.conf)",
     "redis.conf (tcp-backlog 511); redis/redis 6123"},
    {"puma", "Puma", 1024, "bind 'tcp://0.0.0.0:9292?backlog=N'", "puma/puma 2780"},
    {"php", "PHP streams (stream_socket_server)", 32,
     "stream_context_create(['socket' => ['backlog' => N]])", "reactphp/socket 242"},
    {"php-fpm", "PHP-FPM", 511, "listen.backlog = N (pool config)",
     "php-src sapi/fpm/fpm/fpm_sockets.h (FPM_BACKLOG_DEFAULT 511; -1 on Linux in newer "
     "releases)"},
    {"envoy", "Envoy", 128, "listener tcp_backlog_size: N", "envoyproxy/envoy 9501, PR 12625"},
    // Not recognisable from a command line: compiled programs look alike.
    {"", "Go net.Listen", 0,
     "none: Go passes net.core.somaxconn itself (capped at 65535 only before Linux 4.1)",
     "go src/net/sock_linux.go (maxListenerBacklog, maxAckBacklog); golang/go 39000, 41470"},
    {"", "Rust std TcpListener", 128, "bind with socket2 and listen(N)", "rust-lang/rust 55614"},
    {"", "mio / tokio", 1024, "TcpSocket::listen(N)", "tokio-rs/tokio 7738"},
    {"", "Seastar", 100, "listen_options::listen_backlog", "scylladb/seastar 2147"},
};

std::string_view basename(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The program an argv element names: a process title such as "nginx: worker
// process" or "puma 6.4.0 (tcp://0.0.0.0:9292) [app]" is one element with
// spaces, and "/usr/bin/redis-server 127.0.0.1:6379" has a path: cut at the
// first space, take the basename, cut at a colon.
std::string_view program(std::string_view arg) {
  arg = arg.substr(0, arg.find(' '));
  arg = basename(arg);
  return arg.substr(0, arg.find(':'));
}

std::vector<const RuntimeDefault*> family(std::string_view f) {
  std::vector<const RuntimeDefault*> out;
  for (const auto& d : kDefaults)
    if (d.family == f) out.push_back(&d);
  return out;
}

// An argv element that names the program `word`.
bool arg_named(const Owner& o, std::string_view word) {
  for (const auto& a : o.argv)
    if (program(a) == word) return true;
  return false;
}

bool is_python(std::string_view name) {
  return starts_with(name, "python");
}

}  // namespace

std::span<const RuntimeDefault> runtime_defaults() {
  return kDefaults;
}

std::optional<Recognised> recognise(const Owner& o) {
  const std::string_view comm = o.comm;
  const std::string_view argv0 = o.argv.empty() ? std::string_view{} : program(o.argv[0]);
  const auto make = [](std::string_view f, std::string how) {
    return Recognised{f, std::move(how), family(f)};
  };
  // Servers first: their comm or a script name in argv says it, whatever
  // interpreter runs them (a shebang script's comm is the script's name).
  if (comm == "gunicorn" || argv0 == "gunicorn" || arg_named(o, "gunicorn"))
    return make("gunicorn", "gunicorn in comm/argv");
  if (comm == "uvicorn" || arg_named(o, "uvicorn")) return make("uvicorn", "uvicorn in comm/argv");
  if (comm == "nginx" || argv0 == "nginx") return make("nginx", "comm nginx");
  if (comm == "redis-server" || argv0 == "redis-server") return make("redis", "comm redis-server");
  if (comm == "puma" || argv0 == "puma" || arg_named(o, "puma"))
    return make("puma", "puma in comm/argv");
  if (starts_with(comm, "php-fpm") || starts_with(argv0, "php-fpm"))
    return make("php-fpm", "comm php-fpm");
  if (comm == "envoy" || argv0 == "envoy") return make("envoy", "comm envoy");
  if (comm == "node" || comm == "nodejs" || argv0 == "node" || argv0 == "nodejs")
    return make("node", fmt::format("comm {}", comm.empty() ? argv0 : comm));
  if (starts_with(comm, "php") || starts_with(argv0, "php"))
    return make("php", fmt::format("comm {}", comm.empty() ? argv0 : comm));
  if (comm == "java" || argv0 == "java") {
    if (std::find(o.argv.begin(), o.argv.end(), "org.apache.catalina.startup.Bootstrap") !=
        o.argv.end()) {
      Recognised r{"java", "java running org.apache.catalina.startup.Bootstrap (Tomcat)", {}};
      for (const auto* d : family("java"))
        if (d->runtime.find("Tomcat") != std::string_view::npos) r.candidates.push_back(d);
      return r;
    }
    return make("java", "comm java (the library that listened cannot be told from argv)");
  }
  if (is_python(comm) || is_python(argv0)) {
    // `python3 -m http.server`: socketserver's 5 is the only default in play.
    for (size_t i = 0; i + 1 < o.argv.size(); ++i) {
      if (o.argv[i] == "-m" &&
          (o.argv[i + 1] == "http.server" || o.argv[i + 1] == "socketserver")) {
        Recognised r{"python", fmt::format("python -m {}", o.argv[i + 1]), {}};
        r.candidates.push_back(&kDefaults[0]);
        return r;
      }
    }
    return make("python", fmt::format("comm {} (a Python process: which default applies is told "
                                      "by the Send-Q value)",
                                      comm.empty() ? argv0 : comm));
  }
  return std::nullopt;
}

std::optional<DefaultMatch> match_default(const Owner& owner, uint32_t send_q, int64_t somaxconn) {
  const auto r = recognise(owner);
  if (!r) return std::nullopt;
  const bool several = r->candidates.size() > 1;
  std::optional<DefaultMatch> exact;
  for (const auto* d : r->candidates) {
    if (send_q != d->backlog) continue;
    if (!exact)
      exact = DefaultMatch{d, r->how, false, several, {}};
    else
      exact->same_value.push_back(d);
  }
  if (exact) return exact;
  // The kernel kept min(default, somaxconn) (__sys_listen): a default above
  // this namespace's somaxconn shows as somaxconn. Only one candidate can be
  // named then if exactly one default is above it.
  if (somaxconn >= 0 && send_q == static_cast<uint64_t>(somaxconn)) {
    const RuntimeDefault* above = nullptr;
    int n = 0;
    for (const auto* d : r->candidates)
      if (d->backlog > send_q) {
        above = d;
        ++n;
      }
    if (n == 1) return DefaultMatch{above, r->how, true, several, {}};
  }
  return std::nullopt;
}

std::optional<std::string> truncation_note(uint32_t send_q, int64_t somaxconn) {
  if (somaxconn < 65536) return std::nullopt;
  if (send_q == static_cast<uint32_t>(somaxconn & 0xFFFF))
    // Kernels before 4.1 kept the backlog in 16 bits (the comment on Go's
    // maxAckBacklog, src/net/sock_linux.go); newer ones keep 32.
    return fmt::format(
        "Send-Q {} is somaxconn {} cut to 16 bits ({} mod 65536). Kernels before 4.1 kept the "
        "backlog in 16 bits, so a program passing somaxconn itself (as Netty does) got "
        "this there; on a newer kernel the cut happened in the program or its runtime "
        "(netty/netty 10137)",
        send_q, somaxconn, somaxconn);
  if (send_q == 65535)
    return fmt::format(
        "Send-Q 65535 below somaxconn {}: the program capped its backlog at the 16-bit maximum "
        "(Go did so on every kernel before golang/go 41470; it now caps only before Linux 4.1)",
        somaxconn);
  return std::nullopt;
}

}  // namespace synq::doctor
