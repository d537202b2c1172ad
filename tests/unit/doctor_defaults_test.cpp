// The framework-defaults table: each runtime recognised from a realistic
// command line (as /proc/PID/comm and /proc/PID/cmdline show it), the Send-Q
// matching rule with and without the somaxconn clamp, and the 16-bit notes.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "doctor/framework_defaults.hpp"

namespace synq::doctor {
namespace {

Owner owner(std::string comm, std::vector<std::string> argv) {
  return Owner{4242, std::move(comm), std::move(argv)};
}

std::string family_of(const Owner& o) {
  const auto r = recognise(o);
  return r ? std::string(r->family) : "(none)";
}

std::optional<uint32_t> matched_backlog(const Owner& o, uint32_t send_q, int64_t somaxconn = 4096) {
  const auto m = match_default(o, send_q, somaxconn);
  return m ? std::optional<uint32_t>(m->entry->backlog) : std::nullopt;
}

TEST(DoctorDefaults, PythonHttpServerIsSocketserversFive) {
  const Owner o = owner("python3", {"python3", "-m", "http.server", "8000"});
  EXPECT_EQ(family_of(o), "python");
  EXPECT_EQ(matched_backlog(o, 5), 5u);
  // http.server has one default only: 128 (socket.listen()) does not match it.
  EXPECT_EQ(matched_backlog(o, 128), std::nullopt);
  EXPECT_EQ(matched_backlog(o, 6), std::nullopt);
}

TEST(DoctorDefaults, APythonScriptIsToldBySendQ) {
  const Owner o = owner("python3", {"/usr/bin/python3", "/srv/app/server.py"});
  ASSERT_EQ(family_of(o), "python");
  const auto five = match_default(o, 5, 4096);
  ASSERT_TRUE(five);
  EXPECT_NE(five->entry->runtime.find("socketserver"), std::string_view::npos);
  EXPECT_TRUE(five->picked_by_send_q);
  const auto hundred = match_default(o, 100, 4096);
  ASSERT_TRUE(hundred);
  EXPECT_NE(hundred->entry->runtime.find("asyncio"), std::string_view::npos);
  const auto listen_default = match_default(o, 128, 4096);
  ASSERT_TRUE(listen_default);
  EXPECT_NE(listen_default->entry->runtime.find("socket.listen()"), std::string_view::npos);
  EXPECT_FALSE(listen_default->clamped);
  EXPECT_EQ(matched_backlog(o, 3), std::nullopt);  // listen(3): the program chose it
  EXPECT_EQ(family_of(owner("python3.11", {"/usr/bin/python3.11", "x.py"})), "python");
}

TEST(DoctorDefaults, NodeAndItsClampBySomaxconn) {
  const Owner o = owner("node", {"node", "/srv/app/index.js"});
  EXPECT_EQ(family_of(o), "node");
  EXPECT_EQ(matched_backlog(o, 511), 511u);
  EXPECT_EQ(matched_backlog(o, 510), std::nullopt);
  // In a namespace with somaxconn 128, Node's 511 shows as 128.
  const auto m = match_default(o, 128, 128);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->entry->backlog, 511u);
  EXPECT_TRUE(m->clamped);
  // 128 is not a clamp when somaxconn is 4096.
  EXPECT_EQ(matched_backlog(o, 128, 4096), std::nullopt);
}

TEST(DoctorDefaults, TomcatFromItsBootstrapClass) {
  const Owner o = owner(
      "java", {"/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
               "-Djava.util.logging.config.file=/opt/tomcat/conf/logging.properties", "-classpath",
               "/opt/tomcat/bin/bootstrap.jar:/opt/tomcat/bin/tomcat-juli.jar",
               "-Dcatalina.base=/opt/tomcat", "org.apache.catalina.startup.Bootstrap", "start"});
  const auto r = recognise(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->family, "java");
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0]->backlog, 100u);
  EXPECT_EQ(matched_backlog(o, 100), 100u);
  EXPECT_EQ(matched_backlog(o, 50), std::nullopt);  // not a plain ServerSocket then
}

TEST(DoctorDefaults, PlainJavaCannotTellLibrariesWithTheSameValue) {
  const Owner o = owner("java", {"java", "-jar", "/srv/app.jar"});
  const auto fifty = match_default(o, 50, 4096);
  ASSERT_TRUE(fifty);
  EXPECT_NE(fifty->entry->runtime.find("ServerSocket"), std::string_view::npos);
  const auto hundred = match_default(o, 100, 4096);
  ASSERT_TRUE(hundred);
  EXPECT_FALSE(hundred->same_value.empty());  // Tomcat and Akka HTTP both use 100
  EXPECT_EQ(matched_backlog(o, 128), 128u);   // grpc-java
}

TEST(DoctorDefaults, ServersByCommOrProcessTitle) {
  EXPECT_EQ(family_of(owner("nginx", {"nginx: master process /usr/sbin/nginx -g daemon off;"})),
            "nginx");
  EXPECT_EQ(matched_backlog(owner("nginx", {"nginx: worker process"}), 511), 511u);
  EXPECT_EQ(matched_backlog(owner("redis-server", {"/usr/bin/redis-server 127.0.0.1:6379"}), 511),
            511u);
  // gunicorn runs under python3 but is gunicorn: its 2048, not Python's defaults.
  const Owner g =
      owner("gunicorn", {"/usr/bin/python3", "/usr/local/bin/gunicorn", "-w", "4", "app:app"});
  EXPECT_EQ(family_of(g), "gunicorn");
  EXPECT_EQ(matched_backlog(g, 2048), 2048u);
  EXPECT_EQ(matched_backlog(g, 5), std::nullopt);
  EXPECT_EQ(family_of(owner("python3", {"/usr/bin/python3", "-m", "uvicorn", "main:app"})),
            "uvicorn");
  EXPECT_EQ(matched_backlog(owner("ruby", {"puma 6.4.2 (tcp://0.0.0.0:9292) [app]"}), 1024), 1024u);
  EXPECT_EQ(matched_backlog(owner("php", {"php", "server.php"}), 32), 32u);
  EXPECT_EQ(
      family_of(owner("php-fpm8.2", {"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"})),
      "php-fpm");
  EXPECT_EQ(matched_backlog(owner("envoy", {"envoy", "-c", "/etc/envoy.yaml"}), 128), 128u);
}

TEST(DoctorDefaults, CompiledProgramsAreNotRecognised) {
  // A Go, Rust or C++ binary: comm and argv say nothing about its runtime.
  EXPECT_EQ(family_of(owner("myserver", {"./myserver", "-port", "8080"})), "(none)");
  EXPECT_EQ(matched_backlog(owner("myserver", {"./myserver"}), 128), std::nullopt);
  // The table still lists them for the docs.
  bool go_listed = false;
  for (const auto& d : runtime_defaults()) go_listed = go_listed || d.runtime == "Go net.Listen";
  EXPECT_TRUE(go_listed);
}

TEST(DoctorDefaults, EveryEntryHasASettingAndASource) {
  for (const auto& d : runtime_defaults()) {
    EXPECT_FALSE(d.setting.empty()) << d.runtime;
    EXPECT_FALSE(d.source.empty()) << d.runtime;
  }
}

TEST(DoctorDefaults, DocsListEveryEntry) {
  std::ifstream in(std::string(SYNQ_SOURCE_DIR) + "/docs/doctor.md");
  std::stringstream docs;
  docs << in.rdbuf();
  ASSERT_FALSE(docs.str().empty()) << "docs/doctor.md: cannot read it";
  for (const auto& d : runtime_defaults()) {
    const std::string row = "| " + std::string(d.runtime) + " | ";
    EXPECT_NE(docs.str().find(row), std::string::npos) << "docs/doctor.md has no row " << row;
  }
}

TEST(DoctorDefaults, SixteenBitTruncation) {
  // 262144 = 4 × 65536: cut to 16 bits it is 0.
  const auto zero = truncation_note(0, 262144);
  ASSERT_TRUE(zero);
  EXPECT_NE(zero->find("262144"), std::string::npos);
  EXPECT_TRUE(truncation_note(65535, 262144));
  EXPECT_TRUE(truncation_note(3392, 200000));  // 200000 mod 65536 = 200000 - 3 × 65536
  EXPECT_FALSE(truncation_note(0, 4096));      // small somaxconn: a 0 is a listen(fd, 0)
  EXPECT_FALSE(truncation_note(262144, 262144));
}

}  // namespace
}  // namespace synq::doctor
