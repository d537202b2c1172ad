// The listener's reason list (include/synq/listen_reason.hpp): well-formed
// entries, and docs/architecture.md showing every one of them, so the
// document cannot drift from the header.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "synq/listen_reason.hpp"

namespace synq {
namespace {

std::string read_doc(const std::string& rel) {
  const std::string path = std::string(SYNQ_SOURCE_DIR) + "/" + rel;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ListenReason, EntriesAreWellFormed) {
  const std::regex snake("[a-z][a-z0-9]*(_[a-z0-9]+)*");
  std::set<std::string_view> ids;
  for (size_t i = 0; i < kListenReasonCount; ++i) {
    const ListenReasonInfo& r = listen_reason_info(static_cast<ListenReason>(i));
    EXPECT_TRUE(std::regex_match(std::string(r.key), snake)) << r.key;
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    // An id is its key, or its key with a model or path suffix.
    EXPECT_EQ(r.id.substr(0, r.key.size()), r.key) << r.id;
    EXPECT_FALSE(r.text.empty()) << r.id;
    EXPECT_TRUE(r.section.starts_with("docs/passive-open.md §") || r.section.starts_with("RFC "))
        << r.id << ": " << r.section;
    std::set<Counter> seen;
    for (Counter c : r.counters()) {
      EXPECT_TRUE(seen.insert(c).second) << r.id << " lists a counter twice";
      // The stack counts every RST it sends; a reason naming it would count it twice.
      EXPECT_NE(c, Counter::Tcp_OutRsts) << r.id;
    }
  }
}

TEST(ListenReason, OneKeyForTheAcceptQueueOnEveryModel) {
  // The story and the reports find a full accept queue by this one key,
  // whichever model decided.
  std::set<std::string_view> ids;
  for (size_t i = 0; i < kListenReasonCount; ++i) {
    const ListenReasonInfo& r = listen_reason_info(static_cast<ListenReason>(i));
    if (r.key == "accept_queue_full") ids.insert(r.id);
  }
  for (const char* id : {"accept_queue_full", "accept_queue_full_bsd44",
                         "accept_queue_full_freebsd", "accept_queue_full_xnu"})
    EXPECT_TRUE(ids.count(id)) << id;
}

TEST(ListenReason, ArchitectureDocListsEveryEntry) {
  const std::string doc = read_doc("docs/architecture.md");
  for (size_t i = 0; i < kListenReasonCount; ++i) {
    const ListenReasonInfo& r = listen_reason_info(static_cast<ListenReason>(i));
    const std::string row = "| `" + std::string(r.key) + "` | `" + std::string(r.id) + "` |";
    EXPECT_NE(doc.find(row), std::string::npos)
        << "docs/architecture.md: no row for " << r.id << " (key " << r.key << ")";
  }
}

}  // namespace
}  // namespace synq
