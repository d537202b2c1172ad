// QueueSampler: without a resolution it keeps each change of the listener's
// queues once; with one it keeps one band per interval whose minimum
// includes the level the previous interval left (it held into this one),
// and the high-water marks see every sample either way.
#include <gtest/gtest.h>

#include <vector>

#include "lab/run/queue_sampler.hpp"

namespace synq::lab {
namespace {

ListenerQueues queues(uint32_t syn, uint32_t acc) {
  return ListenerQueues{.syn_queue = syn, .accept_queue = acc, .backlog = 0};
}

TEST(QueueSampler, EveryChangeOnceWithoutAResolution) {
  QueueSampler q(0);
  q.sample(0.0, queues(0, 0));
  q.sample(0.5, queues(0, 0));  // no change: not kept
  q.sample(1.0, queues(3, 1));
  q.sample(2.0, queues(1, 2));
  q.flush();  // nothing binned: adds nothing
  EXPECT_EQ(q.max_syn_queue(), 3u);
  EXPECT_EQ(q.max_accept_queue(), 2u);
  const std::vector<QueueSample> s = q.take();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s[0].t, 0.0);
  EXPECT_DOUBLE_EQ(s[1].t, 1.0);
  EXPECT_EQ(s[1].syn_queue, 3u);
  EXPECT_EQ(s[1].accept_queue, 1u);
  EXPECT_EQ(s[1].syn_queue_min, 3u);  // a single value is its own band
  EXPECT_EQ(s[1].accept_queue_min, 1u);
  EXPECT_DOUBLE_EQ(s[2].t, 2.0);
  EXPECT_EQ(s[2].syn_queue, 1u);
  EXPECT_EQ(s[2].accept_queue, 2u);
}

TEST(QueueSampler, OneBandPerIntervalStartingFromThePreviousLevel) {
  QueueSampler q(1.0);
  q.sample(0.2, queues(4, 0));
  q.sample(0.7, queues(6, 2));
  q.sample(0.9, queues(5, 1));
  // Interval 1 starts at 5/1 (left by 0.9) and moves between 2 and 7.
  q.sample(1.5, queues(7, 3));
  q.sample(1.8, queues(2, 3));
  // Interval 3 (2 had no sample) starts at 2/3.
  q.sample(3.1, queues(9, 0));
  EXPECT_EQ(q.take().size(), 2u) << "the interval in progress is kept only by flush()";
  q.flush();
  const std::vector<QueueSample> last = q.take();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_DOUBLE_EQ(last[0].t, 3.0);
  EXPECT_EQ(last[0].syn_queue, 9u);
  EXPECT_EQ(last[0].syn_queue_min, 2u);
  EXPECT_EQ(last[0].accept_queue, 0u);
  EXPECT_EQ(last[0].accept_queue_min, 0u);
  EXPECT_EQ(q.max_syn_queue(), 9u);
  EXPECT_EQ(q.max_accept_queue(), 3u);
}

TEST(QueueSampler, BandsHoldEachIntervalsExtremes) {
  QueueSampler q(1.0);
  q.sample(0.2, queues(4, 0));
  q.sample(0.7, queues(6, 2));
  q.sample(0.9, queues(5, 1));
  q.sample(1.5, queues(7, 3));
  q.sample(1.8, queues(2, 3));
  q.sample(2.4, queues(2, 3));
  q.flush();
  const std::vector<QueueSample> s = q.take();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s[0].t, 0.0);
  EXPECT_EQ(s[0].syn_queue, 6u);
  EXPECT_EQ(s[0].syn_queue_min, 0u);  // the queues started empty before 0.2
  EXPECT_EQ(s[0].accept_queue, 2u);
  EXPECT_EQ(s[0].accept_queue_min, 0u);
  EXPECT_DOUBLE_EQ(s[1].t, 1.0);
  EXPECT_EQ(s[1].syn_queue, 7u);
  EXPECT_EQ(s[1].syn_queue_min, 2u);
  EXPECT_EQ(s[1].accept_queue, 3u);
  EXPECT_EQ(s[1].accept_queue_min, 1u);  // 1 held from 0.9 until 1.5
  EXPECT_DOUBLE_EQ(s[2].t, 2.0);
  EXPECT_EQ(s[2].syn_queue, 2u);
  EXPECT_EQ(s[2].syn_queue_min, 2u);
}

TEST(QueueSampler, ResolutionFromTheOptionsOrTheRunsSize) {
  RunOptions chosen;
  chosen.queue_resolution_s = 0.25;
  EXPECT_DOUBLE_EQ(QueueSampler::resolution_for(chosen, 100000, 60), 0.25);
  RunOptions every_change;
  every_change.queue_resolution_s = 0;
  EXPECT_DOUBLE_EQ(QueueSampler::resolution_for(every_change, 100000, 60), 0.0);
  const RunOptions automatic;  // negative: chosen from the run's size
  EXPECT_DOUBLE_EQ(QueueSampler::resolution_for(automatic, 5000, 60), 0.0);
  EXPECT_DOUBLE_EQ(QueueSampler::resolution_for(automatic, 5001, 60), 60.0 / 4000);
}

}  // namespace
}  // namespace synq::lab
