// What every backlog model shares (spec §8 item 35) and the model registry.
#include <gtest/gtest.h>

#include "stack_models_util.hpp"

namespace synq::test {
namespace {

struct EveryModel : ModelListener, ::testing::WithParamInterface<const char*> {};

// L35: accept() returns connections in the order their handshakes completed,
// not the order their SYNs came; the listener polls readable only while its
// accept queue is non-empty.
TEST_P(EveryModel, L35_AcceptOrderIsCompletionOrderAndReadableOnlyWhenQueued) {
  listen(GetParam(), 4);
  EXPECT_EQ(*server.poll(lfd) & kReadable, 0u);
  std::vector<Sent> synacks;
  for (uint16_t p = 40001; p <= 40003; ++p) {
    auto out = syn(p);
    ASSERT_EQ(out.size(), 1u) << p;
    synacks.push_back(out[0]);
  }
  EXPECT_EQ(*server.poll(lfd) & kReadable, 0u);  // half-open connections are not readable
  const uint16_t order[] = {40003, 40001, 40002};
  for (uint16_t p : order) ack(p, 1001, synacks[p - 40001].tcp.seq + 1);
  EXPECT_NE(*server.poll(lfd) & kReadable, 0u);
  for (uint16_t p : order) {
    Endpoint remote;
    auto fd = server.accept(lfd, &remote);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(remote.port, p);
  }
  EXPECT_EQ(*server.poll(lfd) & kReadable, 0u);
  EXPECT_EQ(server.accept(lfd).error(), Errno::eagain);
}

TEST_P(EveryModel, ListenerShowsItsModelAndDecisionsNameIt) {
  trace_events();
  listen(GetParam(), 4);
  EXPECT_EQ(listener_info().model, GetParam());
  syn(40001);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].model, GetParam());
  EXPECT_EQ(events[0].decision, ListenDecision::request);
}

TEST_P(EveryModel, StackWideModelSysctlPicksTheModel) {
  server.sysctls().listen_model = GetParam();
  lfd = *server.socket(SockType::stream);
  ASSERT_EQ(server.bind(lfd, ep("10.0.0.1", 80)), Errno::ok);
  ASSERT_EQ(server.listen(lfd, 4), Errno::ok);
  EXPECT_EQ(listener_info().model, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Models, EveryModel, ::testing::Values("linux", "bsd44", "freebsd", "xnu"),
                         [](const auto& info) { return std::string(info.param); });

TEST(ModelRegistry, UnknownModelIsRejected) {
  Stack server{config("10.0.0.1")};
  int fd = *server.socket(SockType::stream);
  EXPECT_EQ(server.set_listen_model(fd, "solaris"), Errno::einval);
  server.sysctls().listen_model = "solaris";
  EXPECT_EQ(server.listen(fd, 5), Errno::einval);
}

}  // namespace
}  // namespace synq::test
