// Serialises TcpOptions in Linux's layout (shared by build_tcp,
// tcp_options_length and format_tcp so all three agree).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/tcp_header.hpp"

namespace synq::wire::detail {

/// Writes the options into `out` (which must have room for 40 bytes), or only
/// measures them when `out` is null. Returns the length, a multiple of 4.
size_t write_tcp_options(uint8_t* out, const TcpOptions& opts);

}  // namespace synq::wire::detail
