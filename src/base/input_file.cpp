#include "base/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace synq {

namespace {

InputFile failed(InputProblem p, std::string message) {
  InputFile f;
  f.problem = p;
  f.error = std::move(message);
  return f;
}

}  // namespace

InputFile read_input_file(const std::string& path, std::string_view what, bool allow_empty) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return failed(InputProblem::unreadable,
                  fmt::format("{}: cannot open the {}: {}", path, what, std::strerror(errno)));
  // fstat(2) on the descriptor we read: the check and the read see one file.
  // A directory opens fine for reading on Linux; read(2) then fails with
  // EISDIR, which ifstream turned into "no lines" — a silent pass.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return failed(InputProblem::unreadable, fmt::format("{}: the {} is a directory", path, what));
  }
  InputFile f;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return failed(InputProblem::unreadable,
                    fmt::format("{}: cannot read the {}: {}", path, what, std::strerror(e)));
    }
    if (n == 0) break;
    f.text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!allow_empty && f.text.find_first_not_of(" \t\r\n") == std::string::npos)
    return failed(InputProblem::empty, fmt::format("{}: the {} is empty", path, what));
  return f;
}

}  // namespace synq
