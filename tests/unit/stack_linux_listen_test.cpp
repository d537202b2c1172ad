// listen()'s backlog as C and Python callers pass it to Linux (spec §1, §8 L03).
#include "stack_linux_fixture.hpp"

namespace synq::test {
namespace {

using Listen = LinuxListener;

TEST_F(Listen, L03_LibcNegativeBacklogIsSomaxconnPythonNegativeIsZero) {
  lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, -1), Errno::ok);  // C: listen(fd, -1)
  EXPECT_EQ(listener_info().send_q, 4096u);
  ASSERT_EQ(server.listen_python(lfd, -1), Errno::ok);  // Python: s.listen(-1)
  EXPECT_EQ(listener_info().send_q, 0u);
  ASSERT_EQ(server.listen_python(lfd, -100000), Errno::ok);
  EXPECT_EQ(listener_info().send_q, 0u);
}

TEST_F(Listen, L03_PythonDefaultIs128AndLargeValuesAreClampedByTheKernel) {
  lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen_python(lfd), Errno::ok);  // s.listen()
  EXPECT_EQ(listener_info().send_q, 128u);
  ASSERT_EQ(server.listen_python(lfd, 5), Errno::ok);
  EXPECT_EQ(listener_info().send_q, 5u);
  ASSERT_EQ(server.listen_python(lfd, 100000), Errno::ok);
  EXPECT_EQ(listener_info().send_q, 4096u);
  server.sysctls().somaxconn = 64;  // a kernel below Python's default clamps it
  ASSERT_EQ(server.listen_python(lfd), Errno::ok);
  EXPECT_EQ(listener_info().send_q, 64u);
}

TEST_F(Listen, L03_PythonBacklogZeroStillAdmitsOneConnection) {
  // B = 0 is not "no connections" on Linux: one child and one request fit.
  server.sysctls().tcp_syncookies = 0;
  lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen_python(lfd, -1), Errno::ok);
  auto sa = syn(41000);
  ASSERT_EQ(sa.size(), 1u);
  EXPECT_TRUE(ack(41000, 1000, sa[0]).empty());
  EXPECT_EQ(listener_info().recv_q, 1u);
  EXPECT_TRUE(syn(41001).empty());  // acc 1 > 0: full
}

TEST_F(Listen, PythonListenKeepsListensErrors) {
  int u = *server.socket(SockType::dgram);
  EXPECT_EQ(server.listen_python(u), Errno::eopnotsupp);
  EXPECT_EQ(server.listen_python(999), Errno::ebadf);
}

}  // namespace
}  // namespace synq::test
