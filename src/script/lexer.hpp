// Tokens of the packetdrill dialect. Whitespace and comments separate tokens
// but are otherwise free (a poll() argument may span lines), so each token
// records whether it starts a line: the parser uses that to say "got end of
// line" instead of naming a token from the next event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "script/parse_error.hpp"

namespace synq::script {

enum class TokenKind : uint8_t {
  end,       // end of input
  error,     // a lexical error; `value` holds the whole message; always the last token
  integer,   // 123
  decimal,   // 0.100, .1
  hex,       // 0x1f
  word,      // SOCK_STREAM, ack, S
  string,    // "text" (value: decoded)
  backtick,  // `cmd` (value: between the backticks)
  option,    // --name or --name=value (value: everything after "--")
  ellipsis,  // ...
  punct,     // any other single byte, e.g. ( ) < > . | or a stray byte
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string_view text;  // the source bytes of the token
  std::string value;
  SourceLoc loc;      // first byte
  SourceLoc end_loc;  // just past the last byte
  bool starts_line = false;
  char punct() const { return kind == TokenKind::punct ? text[0] : '\0'; }
  bool is(char c) const { return kind == TokenKind::punct && text[0] == c; }
  bool is_word(std::string_view w) const { return kind == TokenKind::word && text == w; }
};

/// Splits `source` into tokens, ending with one `end` or `error` token.
/// `source` must outlive the tokens.
std::vector<Token> tokenize(std::string_view source);

/// How a token is named in "got ..." messages: 'accept', end of file, ...
std::string describe(const Token& t);

}  // namespace synq::script
