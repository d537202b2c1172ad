// Scenario files in TOML (docs/lab.md, "Scenario files"). Every key is
// checked: an unknown key or a value of the wrong type is an error that
// names the file, line and column and says what was expected.
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include <toml++/toml.h>

#include "base/input_file.hpp"
#include "lab/scenario.hpp"
#include "listen/backlog_model.hpp"
#include "synq/sysctl.hpp"

namespace synq::lab {

namespace {

struct Reader {
  std::string origin;
  std::string error;

  bool fail(const toml::node& n, const std::string& what) {
    if (error.empty()) {
      const auto& src = n.source();
      error = fmt::format("{}:{}:{}: {}", origin, src.begin.line, src.begin.column, what);
    }
    return false;
  }

  // Rejects keys of `t` that are not in `known`.
  bool only(const toml::table& t, std::initializer_list<const char*> known, const char* section) {
    for (const auto& [k, v] : t) {
      bool ok = false;
      for (const char* name : known) ok = ok || k.str() == name;
      if (!ok) {
        std::string list;
        for (const char* name : known) list += std::string(list.empty() ? "" : ", ") + name;
        return fail(
            v, fmt::format("unknown key '{}' in {}: expected one of {}", k.str(), section, list));
      }
    }
    return true;
  }

  // A finite number >= min (> min when `exclusive`): TOML allows nan and inf,
  // which mean nothing as a time, a rate or a probability.
  bool number(const toml::table& t, const char* key, double& out, double min = -1e300,
              bool exclusive = false) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    if (auto v = n->value<double>()) {
      if (!std::isfinite(*v)) return fail(*n, fmt::format("'{}' must be a finite number", key));
      if (*v < min || (exclusive && *v == min))
        return fail(
            *n, fmt::format("'{}' must be {} {}, got {}", key, exclusive ? ">" : ">=", min, *v));
      out = *v;
      return true;
    }
    return fail(*n, fmt::format("'{}' must be a number", key));
  }

  // An integer in [min, the largest value of Int]: 99999999999 for an int
  // field is refused with the range, not wrapped.
  template <typename Int>
  bool integer(const toml::table& t, const char* key, Int& out, int64_t min = 0) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    if (auto v = n->value_exact<int64_t>()) {
      const int64_t lo = std::max<int64_t>(min, std::numeric_limits<Int>::min());
      const int64_t hi = static_cast<uint64_t>(std::numeric_limits<Int>::max()) >
                                 static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                             ? std::numeric_limits<int64_t>::max()
                             : static_cast<int64_t>(std::numeric_limits<Int>::max());
      if (*v < lo || *v > hi)
        return fail(*n,
                    fmt::format("'{}' must be an integer from {} to {}, got {}", key, lo, hi, *v));
      out = static_cast<Int>(*v);
      return true;
    }
    return fail(*n, fmt::format("'{}' must be an integer", key));
  }

  bool string(const toml::table& t, const char* key, std::string& out) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    if (auto v = n->value_exact<std::string>()) {
      out = *v;
      return true;
    }
    return fail(*n, fmt::format("'{}' must be a string", key));
  }

  template <typename T>
  bool parsed(const toml::table& t, const char* key, T& out) {
    std::string text;
    if (!t.get(key)) return true;
    if (!string(t, key, text)) return false;
    std::string why;
    auto v = T::parse(text, &why);
    if (!v) return fail(*t.get(key), fmt::format("'{}': {}", key, why));
    out = *v;
    return true;
  }

  bool times(const toml::table& t, const char* key, std::vector<double>& out) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    const toml::array* a = n->as_array();
    if (!a) return fail(*n, fmt::format("'{}' must be an array of seconds", key));
    for (const auto& e : *a) {
      auto v = e.value<double>();
      if (!v || *v < 0 || !std::isfinite(*v))
        return fail(e, fmt::format("'{}' must hold finite numbers >= 0", key));
      out.push_back(*v);
    }
    return true;
  }

  // [server.sysctl] / [clients.sysctl]: knob = value (string, integer or bool).
  bool sysctls(const toml::table& t, std::vector<std::pair<std::string, std::string>>& out) {
    const toml::node* n = t.get("sysctl");
    if (!n) return true;
    const toml::table* s = n->as_table();
    if (!s) return fail(*n, "'sysctl' must be a table of name = value");
    for (const auto& [k, v] : *s) {
      std::string value;
      if (auto i = v.value_exact<int64_t>())
        value = std::to_string(*i);
      else if (auto b = v.value_exact<bool>())
        value = *b ? "1" : "0";
      else if (auto str = v.value_exact<std::string>())
        value = *str;
      else
        return fail(v, fmt::format("sysctl '{}' must be an integer, a bool or a string", k.str()));
      std::string why;
      Sysctls probe;
      if (!probe.set(std::string(k.str()), value, &why)) return fail(v, why);
      out.emplace_back(std::string(k.str()), value);
    }
    return true;
  }

  const toml::table* section(const toml::table& root, const char* name) {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    if (!n->as_table()) {
      fail(*n, fmt::format("'{}' must be a table ([{}])", name, name));
      return nullptr;
    }
    return n->as_table();
  }
};

}  // namespace

std::optional<Scenario> parse_scenario_toml(const std::string& text, const std::string& origin,
                                            std::string* error) {
  Reader r{origin, {}};
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    if (error)
      *error = fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column,
                           e.description());
    return std::nullopt;
  }
  // An empty file (or one of comments) would run the defaults under the
  // file's name: almost certainly the wrong file.
  if (root.empty()) {
    if (error)
      *error = fmt::format(
          "{}:1:1: the scenario file sets nothing: expected keys such as name, duration, "
          "[server] or [clients] (docs/lab.md)",
          origin);
    return std::nullopt;
  }
  Scenario s;
  s.name = "file";
  bool ok =
      r.only(root,
             {"name", "description", "duration", "seed", "server", "clients", "link", "attacker"},
             "the top level") &&
      r.string(root, "name", s.name) && r.string(root, "description", s.description) &&
      r.number(root, "duration", s.duration_s, 0, true) && r.integer(root, "seed", s.seed);
  if (ok && root.get("server")) {
    const toml::table* t = r.section(root, "server");
    ok =
        t &&
        r.only(*t, {"model", "backlog", "accept", "accept_once_at", "workers", "service", "sysctl"},
               "[server]") &&
        r.string(*t, "model", s.model) && r.integer(*t, "backlog", s.backlog, INT32_MIN) &&
        r.parsed(*t, "accept", s.accept) && r.times(*t, "accept_once_at", s.accept_once_at) &&
        r.integer(*t, "workers", s.workers) && r.parsed(*t, "service", s.service) &&
        r.sysctls(*t, s.server_sysctls);
    // Workers call accept() when idle; an accept policy beside them would be
    // silently ignored, and a service time without workers means nothing.
    if (ok && s.workers > 0 && t->get("accept"))
      ok = r.fail(*t->get("accept"),
                  "'accept' and 'workers' both say when accept() is called: keep one");
    if (ok && s.workers == 0 && t->get("service"))
      ok = r.fail(*t->get("service"), "'service' needs 'workers' > 0 (the time a worker is busy)");
  }
  if (ok && root.get("server") && root.get("server")->as_table()->get("model") &&
      !listen::make_backlog_model(s.model)) {
    std::string models;
    for (const char* m : {"linux", "bsd44", "freebsd", "xnu"})
      if (listen::make_backlog_model(m)) models += std::string(models.empty() ? "" : ", ") + m;
    ok = r.fail(*root.get("server")->as_table()->get("model"),
                fmt::format("'model' must be one of {}, got '{}'", models, s.model));
  }
  if (ok && root.get("clients")) {
    const toml::table* t = r.section(root, "clients");
    ok = t &&
         r.only(*t,
                {"count", "arrival", "start_times", "request_bytes", "response_bytes",
                 "connect_timeout", "sysctl"},
                "[clients]") &&
         r.integer(*t, "count", s.clients) && r.parsed(*t, "arrival", s.arrival) &&
         r.times(*t, "start_times", s.client_start_s) &&
         r.integer(*t, "request_bytes", s.request_bytes) &&
         r.integer(*t, "response_bytes", s.response_bytes) &&
         r.number(*t, "connect_timeout", s.connect_timeout_s, 0) && r.sysctls(*t, s.client_sysctls);
  }
  if (ok && root.get("link")) {
    const toml::table* t = r.section(root, "link");
    ok = t &&
         r.only(*t, {"latency_ms", "jitter_ms", "loss", "bandwidth_bps", "outage"}, "[link]") &&
         r.number(*t, "latency_ms", s.latency_ms, 0) && r.number(*t, "jitter_ms", s.jitter_ms, 0) &&
         r.number(*t, "loss", s.loss, 0) && r.integer(*t, "bandwidth_bps", s.bandwidth_bps);
    if (ok && t->get("outage")) {
      std::string text, why;
      ok = r.string(*t, "outage", text);
      if (ok) {
        auto v = LinkOutage::parse(text, &why);
        if (v)
          s.outages = *v;
        else
          ok = r.fail(*t->get("outage"), "'outage': " + why);
      }
    }
    if (ok && s.loss > 1) ok = r.fail(*t->get("loss"), "'loss' must be a probability in [0, 1]");
  }
  if (ok && root.get("attacker")) {
    const toml::table* t = r.section(root, "attacker");
    ok = t && r.only(*t, {"rate", "sources", "start", "stop"}, "[attacker]") &&
         r.number(*t, "rate", s.attacker.rate, 0) &&
         r.integer(*t, "sources", s.attacker.sources, 1) &&
         r.number(*t, "start", s.attacker.start_s, 0) && r.number(*t, "stop", s.attacker.stop_s);
  }
  if (!ok) {
    if (error) *error = r.error;
    return std::nullopt;
  }
  return s;
}

std::optional<Scenario> load_scenario_file(const std::string& path, std::string* error) {
  // Empty files get parse_scenario_toml's message, which names the line.
  const InputFile file = read_input_file(path, "scenario file", true);
  if (file.problem != InputProblem::none) {
    if (error) *error = file.error;
    return std::nullopt;
  }
  return parse_scenario_toml(file.text, path, error);
}

}  // namespace synq::lab
