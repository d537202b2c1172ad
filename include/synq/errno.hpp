// Socket API errors: POSIX names, Linux numbers. Enumerators are lower case
// (Errno::econnrefused) because the upper-case names are macros in <cerrno>.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace synq {

#define SYNQ_ERRNO_LIST(X) \
  X(ok, 0)                 \
  X(eperm, 1)              \
  X(eintr, 4)              \
  X(ebadf, 9)              \
  X(eagain, 11)            \
  X(enomem, 12)            \
  X(efault, 14)            \
  X(einval, 22)            \
  X(emfile, 24)            \
  X(epipe, 32)             \
  X(enotsock, 88)          \
  X(edestaddrreq, 89)      \
  X(emsgsize, 90)          \
  X(eprototype, 91)        \
  X(enoprotoopt, 92)       \
  X(eprotonosupport, 93)   \
  X(eopnotsupp, 95)        \
  X(eafnosupport, 97)      \
  X(eaddrinuse, 98)        \
  X(eaddrnotavail, 99)     \
  X(enetunreach, 101)      \
  X(econnaborted, 103)     \
  X(econnreset, 104)       \
  X(enobufs, 105)          \
  X(eisconn, 106)          \
  X(enotconn, 107)         \
  X(eshutdown, 108)        \
  X(etimedout, 110)        \
  X(econnrefused, 111)     \
  X(ehostunreach, 113)     \
  X(ealready, 114)         \
  X(einprogress, 115)

enum class Errno : int {
#define SYNQ_ERRNO_ENUM(name, num) name = num,
  SYNQ_ERRNO_LIST(SYNQ_ERRNO_ENUM)
#undef SYNQ_ERRNO_ENUM
};

/// "ECONNREFUSED", "EINPROGRESS", ... ("OK" for Errno::ok).
std::string_view errno_name(Errno e);
/// Inverse of errno_name; accepts "ECONNREFUSED". Returns false if unknown.
bool errno_from_name(std::string_view name, Errno& out);

/// A value or an Errno. Small on purpose: the socket API's return type.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Errno e) : v_(e) {}                 // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  Errno error() const { return ok() ? Errno::ok : std::get<1>(v_); }

 private:
  std::variant<T, Errno> v_;
};

}  // namespace synq
