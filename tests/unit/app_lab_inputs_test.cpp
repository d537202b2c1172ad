// Every input the lab reads is checked whole before a run: numbers that are
// NaN, infinite, negative or too big for their field; directories and empty
// files; the flag parsers' documented forms. Errors name file:line:column.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "base/input_file.hpp"
#include "lab/scenario.hpp"
#include "lab/sweep.hpp"

namespace synq::lab {
namespace {

std::string err;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/app_lab_inputs_" + name;
}

struct BadToml {
  const char* text;
  const char* where;  // the error starts with this
  const char* says;   // and contains this
};

TEST(ScenarioTomlChecks, NumbersOutOfTheirFieldsRangeAreRefusedWithTheRange) {
  const BadToml cases[] = {
      {"[server]\nbacklog = 99999999999\n", "f.toml:2:11:",
       "'backlog' must be an integer from -2147483648 to 2147483647, got 99999999999"},
      {"[clients]\ncount = 4294967297\n", "f.toml:2:9:", "from 0 to 2147483647"},
      {"[clients]\nrequest_bytes = 4294967296\n", "f.toml:2:17:", "from 0 to 4294967295"},
      {"seed = -1\n", "f.toml:1:8:", "'seed' must be an integer from 0 to"},
      {"duration = nan\n", "f.toml:1:12:", "'duration' must be a finite number"},
      {"duration = inf\n", "f.toml:1:12:", "'duration' must be a finite number"},
      {"duration = 0\n", "f.toml:1:12:", "'duration' must be > 0"},
      {"duration = -1.5\n", "f.toml:1:12:", "'duration' must be > 0"},
      {"[link]\nlatency_ms = -inf\n", "f.toml:2:14:", "finite"},
      {"[server]\naccept_once_at = [1, nan]\n", "f.toml:2:22:", "finite numbers >= 0"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(parse_scenario_toml(c.text, "f.toml", &err)) << c.text;
    EXPECT_EQ(err.rfind(c.where, 0), 0u) << c.text << "error: " << err;
    EXPECT_NE(err.find(c.says), std::string::npos) << c.text << "error: " << err;
  }
}

TEST(ScenarioTomlChecks, ContradictionsAndUnknownModelsAreRefusedWhereTheyAreWritten) {
  const BadToml cases[] = {
      {"[server]\nworkers = 2\naccept = \"never\"\n",
       "f.toml:3:10:", "'accept' and 'workers' both say when accept() is called"},
      {"[server]\nservice = \"fixed:0.1\"\n", "f.toml:2:11:", "'service' needs 'workers' > 0"},
      {"[server]\nmodel = \"solaris\"\n",
       "f.toml:2:9:", "'model' must be one of linux, bsd44, freebsd, xnu, got 'solaris'"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(parse_scenario_toml(c.text, "f.toml", &err)) << c.text;
    EXPECT_EQ(err.rfind(c.where, 0), 0u) << c.text << "error: " << err;
    EXPECT_NE(err.find(c.says), std::string::npos) << c.text << "error: " << err;
  }
  // The same keys without the contradiction are fine.
  auto ok = parse_scenario_toml("[server]\nworkers = 2\nservice = \"fixed:0.1\"\n", "f.toml", &err);
  ASSERT_TRUE(ok) << err;
  EXPECT_EQ(ok->workers, 2);
}

TEST(ScenarioTomlChecks, AnEmptyFileIsRefusedNotRunAsDefaults) {
  for (const char* text : {"", "\n\n", "# only a comment\n"}) {
    EXPECT_FALSE(parse_scenario_toml(text, "e.toml", &err)) << '"' << text << '"';
    EXPECT_EQ(err.rfind("e.toml:1:1: the scenario file sets nothing", 0), 0u) << err;
  }
  const std::string path = temp_path("empty.toml");
  std::ofstream(path).close();
  EXPECT_FALSE(load_scenario_file(path, &err));
  EXPECT_NE(err.find("sets nothing"), std::string::npos) << err;
}

TEST(ScenarioTomlChecks, ADirectoryIsNotAScenarioFile) {
  const std::string dir = temp_path("dir.toml");
  ::mkdir(dir.c_str(), 0755);
  EXPECT_FALSE(load_scenario_file(dir, &err));
  EXPECT_EQ(err, dir + ": the scenario file is a directory");
  EXPECT_FALSE(load_scenario_file(temp_path("missing.toml"), &err));
  EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;
}

TEST(FlagParsers, NanInfinityAndNonPositiveRatesAreRefused) {
  for (const char* bad : {"poisson:0", "poisson:nan", "poisson:inf", "poisson:-5", "every:-1",
                          "every:0", "every:nan", "every:", "burst:1", "trace:"})
    EXPECT_FALSE(Arrival::parse(bad, &err)) << bad;
  EXPECT_NE(err.find("finite numbers > 0"), std::string::npos) << err;
  for (const char* bad : {"rate:0", "rate:-1", "rate:inf", "at:-1", "at:nan", "never:1"})
    EXPECT_FALSE(AcceptPolicy::parse(bad, &err)) << bad;
  for (const char* bad : {"uniform:2:1", "uniform:-1:1", "uniform:0:inf", "fixed:nan", "fixed:inf",
                          "exp:0", "exp:-0.1", "fixed"})
    EXPECT_FALSE(ServiceTime::parse(bad, &err)) << bad;
  // The documented forms still parse, to the values written.
  EXPECT_EQ(Arrival::parse("poisson:1e6", &err)->param, 1e6);
  EXPECT_EQ(AcceptPolicy::parse("at:0", &err)->param, 0);
  EXPECT_EQ(ServiceTime::parse("uniform:1:1", &err)->b, 1);
}

TEST(ArrivalTrace, DirectoriesEmptyFilesAndBadLinesAreRefused) {
  const std::string dir = temp_path("trace_dir");
  ::mkdir(dir.c_str(), 0755);
  EXPECT_FALSE(load_arrival_trace(dir, &err));
  EXPECT_EQ(err, dir + ": the arrival trace is a directory");

  const std::string path = temp_path("trace.txt");
  std::ofstream(path) << "# nothing but a comment\n\n";
  EXPECT_FALSE(load_arrival_trace(path, &err));
  EXPECT_NE(err.find("no times"), std::string::npos) << err;

  std::ofstream(path) << "0.1\n  nan\n";
  EXPECT_FALSE(load_arrival_trace(path, &err));
  EXPECT_EQ(err, path + ":2:3: expected a time in seconds, got 'nan'");

  std::ofstream(path) << "0.1\n0.2 # two\n";
  auto t = load_arrival_trace(path, &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(*t, (std::vector<double>{0.1, 0.2}));
}

TEST(SweepAxisChecks, ARangeUpToTheLargestSeedEndsAndInfinityIsRefused) {
  // Doubling up to 2^64 - 1 used to wrap to 0 and loop forever.
  auto a = SweepAxis::parse("seed=1..18446744073709551615", &err);
  ASSERT_TRUE(a) << err;
  EXPECT_EQ(a->values.size(), 64u);
  EXPECT_EQ(a->values.back(), "9223372036854775808");
  EXPECT_FALSE(SweepAxis::parse("backlog=1..4294967296", &err)) << "backlog is an int";
  EXPECT_FALSE(SweepAxis::parse("duration=1,inf", &err));
  EXPECT_FALSE(SweepAxis::parse("latency_ms=nan", &err));
  EXPECT_FALSE(SweepAxis::parse("seed=-1", &err));
  EXPECT_FALSE(SweepAxis::parse("model=linux,solaris", &err));
  EXPECT_NE(err.find("got 'solaris'"), std::string::npos) << err;
}

TEST(InputFile, SaysWhyAFileCannotBeRead) {
  const std::string dir = temp_path("input_dir");
  ::mkdir(dir.c_str(), 0755);
  InputFile f = read_input_file(dir, "script");
  EXPECT_EQ(f.problem, InputProblem::unreadable);
  EXPECT_EQ(f.error, dir + ": the script is a directory");

  f = read_input_file(temp_path("nope"), "script");
  EXPECT_EQ(f.problem, InputProblem::unreadable);
  EXPECT_EQ(f.error, temp_path("nope") + ": cannot open the script: No such file or directory");

  const std::string path = temp_path("blank");
  std::ofstream(path) << " \n\t\n";
  EXPECT_EQ(read_input_file(path, "script").problem, InputProblem::empty);
  EXPECT_EQ(read_input_file(path, "script", true).problem, InputProblem::none);
  std::ofstream(path) << "x\n";
  f = read_input_file(path, "script");
  EXPECT_EQ(f.problem, InputProblem::none);
  EXPECT_EQ(f.text, "x\n");
}

}  // namespace
}  // namespace synq::lab
