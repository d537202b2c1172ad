#include "output_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "exit_codes.hpp"

namespace synq::cli {

namespace {

[[noreturn]] void cannot_create(const std::string& path, int err, const char* hint = "") {
  fail(kCantCreate, fmt::format("{}: cannot create: {}{}", path, std::strerror(err), hint));
}

}  // namespace

void check_output_path(const std::string& path) {
  if (path.empty() || path == "-") return;  // not asked for; stdout
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    // A directory is refused rather than written into: `--json DIR` writing
    // DIR/NAME.json would make the same flag mean two things; --out-dir is
    // the flag that names a directory.
    if (S_ISDIR(st.st_mode))
      cannot_create(path, EISDIR, " (name a file, or use --out-dir DIR to write into a directory)");
    // Open for writing without O_TRUNC: proves we may write, changes nothing.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) cannot_create(path, errno);
    ::close(fd);
    return;
  }
  // O_EXCL: the file we create for the test is ours to remove.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) cannot_create(path, errno);
  ::close(fd);
  ::unlink(path.c_str());
}

std::vector<std::string> make_output_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) cannot_create(dir, ENOTDIR);
    return {};
  }
  // The missing ancestors, outermost first: what this call will create.
  std::vector<std::string> created;
  for (auto p = std::filesystem::path(dir); !p.empty() && ::stat(p.c_str(), &st) != 0;
       p = p.parent_path()) {
    created.insert(created.begin(), p.string());
    if (p == p.parent_path()) break;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    remove_created_dirs(created);
    fail(kCantCreate, fmt::format("{}: cannot create: {}", dir, ec.message()));
  }
  return created;
}

void remove_created_dirs(const std::vector<std::string>& dirs) {
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
}

void write_output(const std::string& path, const std::string& text) {
  write_output_with(path, [&](const std::function<bool(std::string_view)>& write) { write(text); });
}

void write_output_with(
    const std::string& path,
    const std::function<void(const std::function<bool(std::string_view)>&)>& fill) {
  std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (!f) cannot_create(path, errno);
  bool wrote = true;
  int write_errno = 0;
  fill([&](std::string_view text) {
    if (wrote && std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
      wrote = false;
      write_errno = errno;
    }
    return wrote;
  });
  if (path == "-") {
    if (std::fflush(stdout) != 0 || std::ferror(stdout) || !wrote)
      fail(kIoErr,
           fmt::format("stdout: write error: {}", std::strerror(wrote ? errno : write_errno)));
    return;
  }
  // fclose flushes: a full disk shows up here as often as in fwrite.
  if (std::fclose(f) != 0 || !wrote)
    fail(kIoErr,
         fmt::format("{}: write error: {}", path, std::strerror(wrote ? errno : write_errno)));
}

}  // namespace synq::cli
