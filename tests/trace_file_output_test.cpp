// The trace directory check and whole-or-nothing trace files.
#include "traces/trace_file_output.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include "temp_dir_test_support.h"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <string>

namespace npusim {
namespace {

namespace fs = std::filesystem;

class TraceFileOutput : public npusim::testing::TempDirTest {};

std::string error_of(const std::string& dir) {
  try {
    check_trace_directory(dir);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST_F(TraceFileOutput, CreatesAMissingDirectoryAndLeavesNoProbe) {
  const fs::path dir = dir_ / "a" / "b";
  check_trace_directory(dir.string());
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_TRUE(fs::is_empty(dir));
  check_trace_directory(dir.string());  // existing and writable: fine
}

TEST_F(TraceFileOutput, DirectoryThatCannotBeCreatedIsAOneLineErrorNamingIt) {
  std::ofstream(dir_ / "plain_file") << "x";
  const std::string dir = (dir_ / "plain_file" / "traces").string();
  const std::string message = error_of(dir);
  EXPECT_EQ(message.rfind("cannot write trace directory '" + dir + "': ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_F(TraceFileOutput, AFileInsteadOfADirectoryIsAnError) {
  std::ofstream(dir_ / "plain_file") << "x";
  const std::string dir = (dir_ / "plain_file").string();
  EXPECT_EQ(error_of(dir), "cannot write trace directory '" + dir + "': not a directory");
}

TEST_F(TraceFileOutput, ReadOnlyMountIsDetectedByWritingNotByPermissionBits) {
  // /proc is a directory nobody, not even root, can create files in.
  const std::string message = error_of("/proc");
  EXPECT_EQ(message.rfind("cannot write trace directory '/proc': ", 0), 0u) << message;
}

TEST_F(TraceFileOutput, FileAppearsWholeThroughATemporary) {
  const fs::path path = dir_ / "out.txt";
  write_trace_file(path.string(), [&](std::ostream& out) {
    out << "partial";
    EXPECT_TRUE(fs::exists(dir_ / "out.txt.tmp"));
    EXPECT_FALSE(fs::exists(path));
  });
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "partial");
  EXPECT_FALSE(fs::exists(dir_ / "out.txt.tmp"));
}

TEST_F(TraceFileOutput, FailedWriterLeavesNothing) {
  const fs::path path = dir_ / "out.txt";
  EXPECT_THROW(write_trace_file(path.string(),
                                [](std::ostream& out) {
                                  out << "half";
                                  throw std::runtime_error("writer failed");
                                }),
               std::runtime_error);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(dir_ / "out.txt.tmp"));
}

}  // namespace
}  // namespace npusim
