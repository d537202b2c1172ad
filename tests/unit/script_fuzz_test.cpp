// Robustness: every prefix of every sample script, byte-flipped scripts and
// random bytes give a Script or a well-formed error, never a crash (run under
// ASan+UBSan too). Successful parses also satisfy the packet round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "script_test_util.hpp"

namespace synq::script {
namespace {

const char* kExamples[] = {"listen-backlog.pkt",    "synack-retransmit.pkt", "defer-accept.pkt",
                           "simultaneous-open.pkt", "multi-connection.pkt",  "socket-options.pkt"};

uint32_t line_count(std::string_view text) {
  return 1 + static_cast<uint32_t>(std::count(text.begin(), text.end(), '\n'));
}

// Checks the contract on one input; returns whether it parsed.
bool check_one(const std::string& text) {
  auto r = parse_script(text, ParseOptions{"f.pkt", {}});
  if (!r.ok()) {
    const ParseError& e = r.error();
    EXPECT_EQ(e.file, "f.pkt");
    EXPECT_GE(e.line, 1u) << render(e);
    EXPECT_LE(e.line, line_count(text)) << render(e);
    EXPECT_GE(e.column, 1u) << render(e);
    EXPECT_EQ(e.message.rfind("expected ", 0), 0u) << render(e);
    EXPECT_NE(e.message.find(", got "), std::string::npos) << render(e);
    return false;
  }
  for (const Event& ev : r.value().events) {
    if (const Packet* p = ev.packet()) {
      auto again = parse_packet(p->to_string());
      EXPECT_TRUE(again.ok() && again.value() == *p) << p->to_string();
    }
  }
  return true;
}

TEST(ScriptFuzz, EveryPrefixOfEveryExample) {
  for (const char* name : kExamples) {
    const std::string text = test::read_example(name);
    ASSERT_FALSE(text.empty()) << name;
    size_t parsed = 0;
    for (size_t n = 0; n <= text.size(); ++n) parsed += check_one(text.substr(0, n));
    // The whole file parses, and so do the cuts that fall between events.
    EXPECT_TRUE(check_one(text)) << name;
    EXPECT_GT(parsed, 1u) << name;
  }
}

TEST(ScriptFuzz, ByteFlippedExamples) {
  std::mt19937_64 rng(20240601);  // fixed seed: failures reproduce
  const std::string alphabet = "<>.:()[]{},=|+*~-`\"/ \n0123456789SFRPAWEackwinmssTSval";
  for (const char* name : kExamples) {
    const std::string text = test::read_example(name);
    for (int round = 0; round < 300; ++round) {
      std::string mutated = text;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits; ++k) {
        const size_t at = rng() % mutated.size();
        switch (rng() % 3) {
          case 0:
            mutated[at] = alphabet[rng() % alphabet.size()];
            break;
          case 1:
            mutated.erase(at, 1 + rng() % 8);
            break;
          default:
            mutated.insert(at, 1, alphabet[rng() % alphabet.size()]);
        }
        if (mutated.empty()) mutated = "x";
      }
      check_one(mutated);
    }
  }
}

TEST(ScriptFuzz, RandomBytes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 200, '\0');
    for (char& c : junk) c = static_cast<char>(rng() & 0xff);
    check_one(junk);
    // Mostly-printable junk reaches deeper into the grammar.
    for (char& c : junk) c = static_cast<char>(' ' + rng() % 95);
    check_one(junk);
  }
  EXPECT_FALSE(check_one(std::string(100000, '[')));
  EXPECT_FALSE(check_one("0 f(" + std::string(100000, '[')));
}

}  // namespace
}  // namespace synq::script
