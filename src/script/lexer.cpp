#include "script/lexer.hpp"

#include <cstdio>
#include <optional>

namespace synq::script {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_word_char(char c) {
  return is_word_start(c) || is_digit(c);
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      bool new_line = skip_space_and_comments();
      if (error_) {
        out.push_back(std::move(*error_));
        return out;
      }
      Token t = next();
      t.starts_line = new_line || out.empty();
      const bool last = t.kind == TokenKind::end || t.kind == TokenKind::error;
      out.push_back(std::move(t));
      if (last) return out;
    }
  }

 private:
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  bool at_end() const { return pos_ >= src_.size(); }
  SourceLoc here() const { return {line_, col_}; }
  void advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  Token make_error(SourceLoc at, std::string message) {
    Token t;
    t.kind = TokenKind::error;
    t.loc = at;
    t.end_loc = at;
    t.value = std::move(message);
    return t;
  }

  // Returns whether a newline was crossed. Sets error_ on an unterminated comment.
  bool skip_space_and_comments() {
    bool crossed = false;
    while (!at_end()) {
      char c = peek();
      if (is_space(c)) {
        if (c == '\n') crossed = true;
        advance();
      } else if (c == '/' && peek(1) == '/') {
        while (!at_end() && peek() != '\n') advance();
      } else if (c == '/' && peek(1) == '*') {
        SourceLoc open = here();
        advance();
        advance();
        for (;;) {
          if (at_end()) {
            error_ = make_error(open, "expected '*/' closing this comment, got end of file");
            return crossed;
          }
          if (peek() == '*' && peek(1) == '/') {
            advance();
            advance();
            break;
          }
          if (peek() == '\n') crossed = true;
          advance();
        }
      } else {
        break;
      }
    }
    return crossed;
  }

  Token finish(TokenKind kind, size_t start, SourceLoc loc) {
    Token t;
    t.kind = kind;
    t.text = src_.substr(start, pos_ - start);
    t.loc = loc;
    t.end_loc = here();
    return t;
  }

  Token next() {
    const size_t start = pos_;
    const SourceLoc loc = here();
    if (at_end()) return finish(TokenKind::end, start, loc);
    const char c = peek();

    if (c == '0' && (peek(1) == 'x' || peek(1) == 'X') && is_hex_digit(peek(2))) {
      advance();
      advance();
      while (is_hex_digit(peek())) advance();
      return finish(TokenKind::hex, start, loc);
    }
    if (is_digit(c)) {
      while (is_digit(peek())) advance();
      // "0.100" is a decimal, but "0...0.2" is 0, ..., 0.2 (a blocking syscall's end time).
      if (peek() == '.' && is_digit(peek(1))) {
        advance();
        while (is_digit(peek())) advance();
        return finish(TokenKind::decimal, start, loc);
      }
      return finish(TokenKind::integer, start, loc);
    }
    if (c == '.') {
      if (peek(1) == '.' && peek(2) == '.') {
        advance();
        advance();
        advance();
        return finish(TokenKind::ellipsis, start, loc);
      }
      if (is_digit(peek(1))) {  // ".1", as in "+.1"
        advance();
        while (is_digit(peek())) advance();
        return finish(TokenKind::decimal, start, loc);
      }
    }
    if (is_word_start(c)) {
      while (is_word_char(peek())) advance();
      return finish(TokenKind::word, start, loc);
    }
    if (c == '-' && peek(1) == '-' && is_word_start(peek(2))) return option(start, loc);
    if (c == '"') return string(start, loc);
    if (c == '`') return backtick(start, loc);
    advance();
    return finish(TokenKind::punct, start, loc);
  }

  // --name, --name=value, --name="quoted value"; the value ends at whitespace.
  Token option(size_t start, SourceLoc loc) {
    advance();
    advance();
    while (!at_end() && !is_space(peek())) {
      if (peek() == '"') {
        advance();
        while (!at_end() && peek() != '"' && peek() != '\n') advance();
        if (peek() != '"') {
          return make_error(loc, "expected closing '\"' in option value, got end of line");
        }
      }
      advance();
    }
    Token t = finish(TokenKind::option, start, loc);
    t.value = std::string(t.text.substr(2));
    return t;
  }

  Token string(size_t start, SourceLoc loc) {
    advance();
    std::string value;
    for (;;) {
      if (at_end())
        return make_error(loc, "expected closing '\"' for this string, got end of file");
      char c = peek();
      if (c == '"') break;
      if (c == '\\' && pos_ + 1 < src_.size()) {
        advance();
        char e = peek();
        value += e == 'n' ? '\n' : e == 't' ? '\t' : e == '0' ? '\0' : e;
        advance();
        continue;
      }
      value += c;
      advance();
    }
    advance();
    Token t = finish(TokenKind::string, start, loc);
    t.value = std::move(value);
    return t;
  }

  Token backtick(size_t start, SourceLoc loc) {
    advance();
    for (;;) {
      if (at_end())
        return make_error(loc, "expected closing '`' for this command, got end of file");
      char c = peek();
      if (c == '`') break;
      // A backslash escapes the next byte (so \` stays inside the command).
      if (c == '\\' && pos_ + 1 < src_.size()) advance();
      advance();
    }
    advance();
    Token t = finish(TokenKind::backtick, start, loc);
    t.value = std::string(t.text.substr(1, t.text.size() - 2));
    return t;
  }

  std::string_view src_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t col_ = 1;
  std::optional<Token> error_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  return Lexer(source).run();
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::end:
      return "end of file";
    case TokenKind::error:
      return "invalid input";
    case TokenKind::string: {
      std::string s(t.text.substr(0, 24));
      if (t.text.size() > 24) s += "...";
      return "string " + s;
    }
    case TokenKind::backtick:
      return "command block";
    case TokenKind::option:
      return "option '" + std::string(t.text) + "'";
    case TokenKind::punct: {
      unsigned char c = static_cast<unsigned char>(t.text[0]);
      if (c < 0x20 || c >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        return std::string("byte '") + buf + "'";
      }
      return "'" + std::string(t.text) + "'";
    }
    default: {
      std::string s(t.text.substr(0, 40));
      if (t.text.size() > 40) s += "...";
      return "'" + s + "'";
    }
  }
}

}  // namespace synq::script
