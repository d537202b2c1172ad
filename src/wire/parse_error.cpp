#include "wire/wire.hpp"

namespace synq::wire {

std::string_view parse_error_name(ParseError e) {
  switch (e) {
    case ParseError::too_short:
      return "too_short";
    case ParseError::bad_version:
      return "bad_version";
    case ParseError::bad_header_length:
      return "bad_header_length";
    case ParseError::bad_total_length:
      return "bad_total_length";
    case ParseError::bad_ip_checksum:
      return "bad_ip_checksum";
    case ParseError::bad_checksum:
      return "bad_checksum";
    case ParseError::bad_option_length:
      return "bad_option_length";
    case ParseError::fragment:
      return "fragment";
    case ParseError::unsupported:
      return "unsupported";
  }
  return "unknown";
}

}  // namespace synq::wire
