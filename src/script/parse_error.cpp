#include "script/parse_error.hpp"

namespace synq::script {

std::string render(const ParseError& e) {
  std::string out = e.file;
  if (e.line != 0) {
    out += ':' + std::to_string(e.line) + ':' + std::to_string(e.column);
  }
  out += ": ";
  out += e.message;
  return out;
}

}  // namespace synq::script
