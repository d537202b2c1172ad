// Recursive-descent parser over the token vector. Every parse_* function
// returns false after recording the first error; nothing throws.
#include "script/parser.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "script/header_options.hpp"
#include "script/lexer.hpp"
#include "script/shell_block.hpp"
#include "wire/tcp_option_kinds.hpp"

namespace synq::script {

namespace {

// Deep enough for any real argument (poll's [{...}] is 2), shallow enough that
// "[[[[..." garbage cannot exhaust the stack.
constexpr int kMaxNesting = 32;

class Parser {
 public:
  Parser(std::string_view source, std::string file)
      : toks_(tokenize(source)), file_(std::move(file)) {}

  bool script(Script& out) {
    out.file = file_;
    while (cur().kind == TokenKind::option) {
      const Token& t = cur();
      if (auto e = apply_header_option(t.value, file_, t.loc, out.options)) return fail(*e);
      bump();
    }
    while (cur().kind != TokenKind::end) {
      Event ev;
      if (!event(ev)) return false;
      out.events.push_back(std::move(ev));
    }
    return true;
  }

  bool single_packet(Packet& out) {
    event_first_ = i_;
    if (!cur().is('<') && !cur().is('>')) return expected("'<' or '>'");
    if (!packet(out)) return false;
    if (cur().kind != TokenKind::end) return expected("end of packet");
    return true;
  }

  ParseError error() const { return error_.value_or(ParseError{file_, 0, 0, "unknown error"}); }

 private:
  // ------------------------------------------------------------ tokens

  const Token& cur() const { return toks_[i_]; }
  const Token& ahead(size_t n) const { return toks_[std::min(i_ + n, toks_.size() - 1)]; }
  const Token& prev() const { return toks_[i_ == 0 ? 0 : i_ - 1]; }
  void bump() {
    if (i_ + 1 < toks_.size()) ++i_;
  }
  // A token on a later line than the event's start means the event's line ended.
  bool at_line_end() const {
    return cur().kind == TokenKind::end || (cur().starts_line && i_ > event_first_);
  }

  // ------------------------------------------------------------ errors

  bool fail(ParseError e) {
    if (!error_) error_ = std::move(e);
    return false;
  }
  bool fail_at(SourceLoc at, std::string message) {
    return fail(ParseError{file_, at.line, at.column, std::move(message)});
  }
  /// "expected <what>, got <the current token>". A lexical error at this point
  /// wins, since it explains the token better than we can.
  bool expected(const std::string& what) {
    const Token& t = cur();
    if (t.kind == TokenKind::error) return fail_at(t.loc, t.value);
    if (t.starts_line && i_ > event_first_) {
      return fail_at(prev().end_loc, "expected " + what + ", got end of line");
    }
    return fail_at(t.loc, "expected " + what + ", got " + describe(t));
  }
  bool expect_punct(char c, const std::string& what) {
    if (!cur().is(c)) return expected(what);
    bump();
    return true;
  }

  // ------------------------------------------------------------ numbers

  /// An unsigned decimal integer token in [0, max].
  bool unsigned_int(const std::string& what, uint64_t max, uint64_t& out) {
    if (cur().kind == TokenKind::error || at_line_end() || cur().kind != TokenKind::integer) {
      return expected(what);
    }
    const std::string_view s = cur().text;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v > max) {
      return fail_at(cur().loc, "expected " + what + " (0.." + std::to_string(max) + "), got " +
                                    describe(cur()));
    }
    out = v;
    bump();
    return true;
  }
  template <class T>
  bool typed_int(const std::string& what, T& out) {
    uint64_t v = 0;
    if (!unsigned_int(what, std::numeric_limits<T>::max(), v)) return false;
    out = static_cast<T>(v);
    return true;
  }

  /// A time in seconds ("1", "0.100", ".1") as an exact Duration.
  bool time_value(Duration& out) {
    const Token& t = cur();
    if (t.kind != TokenKind::integer && t.kind != TokenKind::decimal) return expected("time");
    const std::string_view s = t.text;
    const size_t dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
    if (frac.size() > 9) {
      return fail_at(t.loc, "expected time with at most 9 decimal places, got " + describe(t));
    }
    // Up to a million seconds (11.5 days): far beyond any test, far from overflow.
    constexpr int64_t kMaxSeconds = 1'000'000;
    int64_t secs = 0;
    if (!whole.empty()) {
      auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
      if (ec != std::errc() || p != whole.data() + whole.size() || secs > kMaxSeconds) {
        return fail_at(t.loc, "expected time of at most 1000000 seconds, got " + describe(t));
      }
    }
    int64_t ns = 0;
    for (size_t i = 0; i < 9; ++i) ns = ns * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    out = Duration(secs * 1'000'000'000 + ns);
    bump();
    return true;
  }

  // ------------------------------------------------------------ events

  bool event(Event& ev) {
    event_first_ = i_;
    ev.loc = cur().loc;
    if (cur().kind == TokenKind::backtick) {  // untimed: packetdrill's init/cleanup command
      ev.timing.kind = Timing::Kind::none;
      ev.action = shell();
      return end_of_event("end of line");
    }
    if (cur().kind == TokenKind::option) {
      return expected("event time (options go before the first event)");
    }
    if (!timing(ev.timing)) return false;

    const Token& t = cur();
    if (t.is('<') || t.is('>')) {
      const SourceLoc dir_loc = t.loc;
      Packet p;
      if (!packet(p)) return false;
      if (p.any_options && p.direction == Direction::inbound) {
        return fail_at(dir_loc, "expected TCP options on an inbound packet, got '<...>'");
      }
      ev.action = std::move(p);
      if (!end_of_event("'ack', 'win', 'urg', TCP options or end of line")) return false;
    } else if (t.kind == TokenKind::backtick && !at_line_end()) {
      ev.action = shell();
      if (!end_of_event("end of line")) return false;
    } else if ((t.kind == TokenKind::word || t.kind == TokenKind::ellipsis) && !at_line_end()) {
      if (t.kind == TokenKind::ellipsis) {  // `+0...0.200 accept(...)`: a blocking call
        bump();
        Duration until{};
        if (!time_value(until)) return false;
        ev.timing.blocking_until = until;
        if (cur().kind != TokenKind::word || at_line_end()) return expected("system call name");
      }
      if (!ahead(1).is('(')) {
        const std::string_view w = cur().text;
        if (w == "udp" || w == "icmp") {
          return fail_at(cur().loc,
                         "expected packet, system call or command, got unsupported "
                         "protocol '" +
                             std::string(w) + "'");
        }
        return expected("packet, system call or command");
      }
      Syscall s;
      if (!syscall(s)) return false;
      ev.action = std::move(s);
      if (!end_of_event("end of line")) return false;
    } else if (t.is('%') && ahead(1).is('{')) {
      return fail_at(t.loc,
                     "expected packet, system call or command, got unsupported code "
                     "block '%{'");
    } else {
      return expected("packet, system call or command");
    }
    return check_time_kind(ev);
  }

  bool end_of_event(const std::string& what) {
    if (cur().kind == TokenKind::end || cur().starts_line) return true;
    return expected(what);
  }

  // packetdrill allows '*' and ranges only where the stack chooses the time:
  // for packets it sends.
  bool check_time_kind(const Event& ev) {
    const auto k = ev.timing.kind;
    if (k != Timing::Kind::any && k != Timing::Kind::absolute_range &&
        k != Timing::Kind::relative_range) {
      return true;
    }
    const Packet* p = ev.packet();
    if (p && p->direction == Direction::outbound) return true;
    std::string got = p              ? "an inbound packet"
                      : ev.syscall() ? "system call '" + ev.syscall()->name + "'"
                                     : "command block";
    const char* which = k == Timing::Kind::any ? "'*' time" : "time range";
    return fail_at(
        ev.loc, std::string("expected an outbound packet ('>') after a ") + which + ", got " + got);
  }

  bool timing(Timing& t) {
    if (cur().is('*')) {
      t.kind = Timing::Kind::any;
      bump();
      return true;
    }
    const bool relative = cur().is('+');
    if (relative) bump();
    if (!time_value(t.start)) return false;
    t.end = t.start;
    t.kind = relative ? Timing::Kind::relative : Timing::Kind::absolute;
    if (!cur().is('~')) return true;
    bump();
    if (relative && !expect_punct('+', "'+' before the range's end time")) return false;
    const SourceLoc end_loc = cur().loc;
    if (!time_value(t.end)) return false;
    if (t.end < t.start) {
      Timing lo, hi;
      lo.kind = hi.kind = Timing::Kind::absolute;
      lo.start = t.start;
      hi.start = t.end;
      return fail_at(end_loc,
                     "expected range end >= " + lo.to_string() + ", got " + hi.to_string());
    }
    t.kind = relative ? Timing::Kind::relative_range : Timing::Kind::absolute_range;
    return true;
  }

  ShellBlock shell() {
    ShellBlock b = split_shell_block(cur().value, cur().loc.line);
    bump();
    return b;
  }

  // ------------------------------------------------------------ packets

  bool packet(Packet& p) {
    p.direction = cur().is('<') ? Direction::inbound : Direction::outbound;
    bump();
    if (at_line_end()) return expected("TCP flags");

    if (cur().is('[') || cur().is('(')) return unsupported_ip_fields();
    if (cur().is_word("udp") || cur().is_word("icmp") || cur().is_word("encap")) {
      return fail_at(cur().loc, "expected TCP flags, got unsupported protocol " + describe(cur()));
    }
    if (cur().kind == TokenKind::integer) {  // synq extension: sport>dport
      uint16_t sport = 0, dport = 0;
      if (!typed_int("source port", sport)) return false;
      if (!expect_punct('>', "'>' between source and destination port")) return false;
      if (!typed_int("destination port", dport)) return false;
      p.sport = sport;
      p.dport = dport;
    }
    if (!flags(p.flags)) return false;
    if (!at_line_end() && cur().is_word("abs")) {  // synq extension: absolute seq
      if (p.direction == Direction::inbound)
        return fail_at(cur().loc,
                       "expected the start sequence number, got 'abs' (inbound sequence "
                       "numbers are already the script's own, absolute)");
      p.absolute_seq = true;
      bump();
    }

    uint32_t start = 0, end = 0;
    uint16_t len = 0;
    if (!typed_int("start sequence number", start)) return false;
    if (!expect_punct(':', "':' after the start sequence number")) return false;
    const SourceLoc end_loc = cur().loc;
    if (!typed_int("end sequence number", end)) return false;
    if (!expect_punct('(', "'(' and the payload length")) return false;
    if (!typed_int("payload length", len)) return false;
    if (!expect_punct(')', "')' after the payload length")) return false;
    if (uint64_t{start} + len != end) {
      return fail_at(end_loc, "expected end sequence number " +
                                  std::to_string(uint64_t{start} + len) +
                                  " (start + payload length), got '" + std::to_string(end) + "'");
    }
    p.seq_start = start;
    p.seq_end = end;
    p.payload_len = len;

    if (!at_line_end() && cur().is_word("ack")) {
      bump();
      uint32_t a = 0;
      if (!typed_int("ack number", a)) return false;
      p.ack = a;
    }
    if (!at_line_end() && cur().is_word("win")) {
      bump();
      uint16_t w = 0;
      if (!typed_int("window", w)) return false;
      p.window = w;
    }
    if (!at_line_end() && cur().is_word("urg")) {
      bump();
      uint16_t u = 0;
      if (!typed_int("urgent pointer", u)) return false;
      p.urgent = u;
    }
    if (!at_line_end() && cur().is('<')) return tcp_options(p);
    return true;
  }

  // [ect0], (tos 0x2), [noecn, flowlabel 0x1]: IP header checks synq does not run.
  bool unsupported_ip_fields() {
    const Token& open = cur();
    const char close = open.is('[') ? ']' : ')';
    size_t j = i_ + 1;
    while (j < toks_.size() && toks_[j].kind != TokenKind::end &&
           toks_[j].kind != TokenKind::error && !toks_[j].starts_line && !toks_[j].is(close)) {
      ++j;
    }
    std::string text(open.text);
    if (j < toks_.size() && toks_[j].is(close) && !toks_[j].starts_line) {
      const char* b = open.text.data();
      text.assign(b, toks_[j].text.data() + 1 - b);
    }
    return fail_at(open.loc, "expected TCP flags, got unsupported IP field '" + text + "'");
  }

  bool flags(uint8_t& out) {
    out = 0;
    const Token& t = cur();
    if (t.is('-')) {  // packetdrill: no flag at all
      bump();
      return true;
    }
    if (t.kind == TokenKind::word) {
      if (!flag_letters(t, out)) return false;
      bump();
      if (at_line_end() || !cur().is('.') || cur().loc != prev().end_loc) return true;
    } else if (!t.is('.')) {
      return expected("TCP flags");
    }
    out |= wire::tcp_flags::ACK;  // "S." is SYN+ACK; "." alone is a bare ACK
    bump();
    // packetdrill writes the ACK dot last: "S.P" or ".Q" is a typo, not two tokens.
    if (cur().kind == TokenKind::word && cur().loc == prev().end_loc) {
      uint8_t more = 0;
      if (!flag_letters(cur(), more)) return false;
      return fail_at(cur().loc, "expected '.' last in TCP flags, got '" +
                                    std::string(1, cur().text[0]) + "' after it");
    }
    return true;
  }

  bool flag_letters(const Token& t, uint8_t& out) {
    namespace f = wire::tcp_flags;
    for (size_t k = 0; k < t.text.size(); ++k) {
      uint8_t bit = 0;
      switch (t.text[k]) {
        case 'F':
          bit = f::FIN;
          break;
        case 'S':
          bit = f::SYN;
          break;
        case 'R':
          bit = f::RST;
          break;
        case 'P':
          bit = f::PSH;
          break;
        case 'U':
          bit = f::URG;
          break;
        case 'E':
          bit = f::ECE;
          break;
        case 'W':
          bit = f::CWR;
          break;
        default:
          break;
      }
      const SourceLoc at{t.loc.line, t.loc.column + static_cast<uint32_t>(k)};
      const std::string letter(1, t.text[k]);
      if (bit == 0) return fail_at(at, "expected TCP flag (F S R P . U E W), got '" + letter + "'");
      if (out & bit) return fail_at(at, "expected each TCP flag once, got '" + letter + "' twice");
      out |= bit;
    }
    return true;
  }

  bool tcp_options(Packet& p) {
    const SourceLoc open_loc = cur().loc;
    bump();  // '<'
    if (cur().kind == TokenKind::ellipsis && !at_line_end()) {
      bump();
      p.any_options = true;
      return expect_punct('>', "'>' after '<...'");
    }
    for (;;) {
      PacketOption o;
      if (!tcp_option(o)) return false;
      p.options.push_back(std::move(o));
      if (!at_line_end() && cur().is(',')) {
        bump();
        continue;
      }
      if (!at_line_end() && cur().is('>')) {
        bump();
        break;
      }
      return expected("',' or '>' in TCP options");
    }
    size_t total = 0;
    for (const auto& o : p.options) total += o.wire_length();
    if (total > wire::tcp_opt::MAX_OPTION_SPACE) {
      return fail_at(open_loc,
                     "expected at most 40 bytes of TCP options, got " + std::to_string(total));
    }
    return true;
  }

  bool tcp_option(PacketOption& o) {
    using K = PacketOption::Kind;
    const Token& t = cur();
    if (t.kind != TokenKind::word || at_line_end()) {
      return expected("TCP option (nop, eol, mss, wscale, sackOK, sack, TS)");
    }
    const std::string_view w = t.text;
    if (w == "nop" || w == "eol" || w == "sackOK") {
      o.kind = w == "nop" ? K::nop : w == "eol" ? K::eol : K::sack_permitted;
      bump();
      return true;
    }
    if (w == "mss" || w == "wscale") {
      bump();
      o.kind = w == "mss" ? K::mss : K::wscale;
      uint64_t v = 0;
      if (w == "mss") {
        if (!unsigned_int("mss value", 65535, v)) return false;
      } else {
        if (!unsigned_int("wscale shift count", 255, v)) return false;
      }
      o.value = static_cast<uint32_t>(v);
      return true;
    }
    if (w == "sack") {
      bump();
      o.kind = K::sack;
      do {
        if (o.sack.size() == 4) {
          // 4 blocks fill the 40 option bytes (RFC 2018 §3).
          return fail_at(cur().loc, "expected at most 4 SACK blocks, got a 5th");
        }
        wire::SackBlock b;
        if (!typed_int("SACK block left edge", b.left)) return false;
        if (!expect_punct(':', "':' in SACK block")) return false;
        if (!typed_int("SACK block right edge", b.right)) return false;
        o.sack.push_back(b);
      } while (!at_line_end() && cur().kind == TokenKind::integer);
      return true;
    }
    if (w == "TS") {
      bump();
      o.kind = K::timestamp;
      if (at_line_end() || !cur().is_word("val")) return expected("'val' in TS option");
      bump();
      if (!typed_int("TS value", o.ts_val)) return false;
      if (at_line_end() || !cur().is_word("ecr")) return expected("'ecr' in TS option");
      bump();
      return typed_int("TS echo reply", o.ts_ecr);
    }
    if (w == "md5" || w == "FO" || w == "FOEXP" || w == "ECN") {
      return fail_at(t.loc,
                     "expected TCP option (nop, eol, mss, wscale, sackOK, sack, TS), "
                     "got unsupported option '" +
                         std::string(w) + "'");
    }
    return expected("TCP option (nop, eol, mss, wscale, sackOK, sack, TS)");
  }

  // ------------------------------------------------------------ syscalls

  bool syscall(Syscall& s) {
    s.name = std::string(cur().text);
    bump();
    bump();  // '(' (checked by the caller)
    if (!cur().is(')')) {
      for (;;) {
        Expr e;
        if (!expr(e, 0)) return false;
        s.args.push_back(std::move(e));
        if (cur().is(',')) {
          bump();
          continue;
        }
        if (cur().is(')')) break;
        return expected("',' or ')' in the argument list");
      }
    }
    bump();  // ')'
    if (at_line_end() || !cur().is('=')) return expected("'=' and the return value");
    bump();
    if (at_line_end()) return expected("return value");
    if (!expr(s.result, 0)) return false;
    if (!at_line_end() && cur().kind == TokenKind::word) {
      s.errno_name = std::string(cur().text);
      bump();
      if (!at_line_end() && cur().is('(')) {
        std::string text;
        if (!note(text)) return false;
        s.errno_text = std::move(text);
      }
    } else if (!at_line_end() && cur().is('(')) {
      std::string text;
      if (!note(text)) return false;
      s.note = std::move(text);
    }
    return true;
  }

  // "(Operation now in progress)": free text to the ')' on the same line.
  bool note(std::string& out) {
    const Token& open = cur();
    bump();
    while (!cur().is(')')) {
      if (at_line_end() || cur().kind == TokenKind::error) return expected("')' closing the note");
      bump();
    }
    const char* b = open.text.data() + 1;
    std::string_view raw(b, static_cast<size_t>(cur().text.data() - b));
    bump();
    // Collapse runs of blanks so the note compares and prints cleanly.
    bool space = false;
    for (char c : raw) {
      if (c == ' ' || c == '\t') {
        space = !out.empty();
        continue;
      }
      if (space) out += ' ';
      space = false;
      out += c;
    }
    return true;
  }

  // ------------------------------------------------------------ expressions

  bool expr(Expr& out, int depth) {
    if (depth > kMaxNesting) {
      return fail_at(cur().loc, "expected at most " + std::to_string(kMaxNesting) +
                                    " nested brackets, got more");
    }
    out.loc = cur().loc;
    if (!primary(out, depth)) return false;
    if (!cur().is('|')) return true;
    OrExpr ored;
    ored.terms.push_back(std::move(out));
    while (cur().is('|')) {
      bump();
      Expr term;
      term.loc = cur().loc;
      if (!primary(term, depth)) return false;
      ored.terms.push_back(std::move(term));
    }
    out.v = std::move(ored);
    return true;
  }

  bool integer(IntExpr& out, bool negative) {
    const Token& t = cur();
    if (t.kind == TokenKind::hex) {
      uint64_t u = 0;
      const std::string_view digits = t.text.substr(2);
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, 16);
      if (ec != std::errc() || p != digits.data() + digits.size()) {
        return fail_at(t.loc, "expected a 64-bit integer, got " + describe(t));
      }
      out.hex = true;
      out.value = static_cast<int64_t>(negative ? 0 - u : u);  // two's complement, as C would
    } else {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
      if (ec != std::errc() || p != t.text.data() + t.text.size()) {
        return fail_at(t.loc, "expected a 64-bit integer, got " + describe(t));
      }
      out.value = negative ? -v : v;
    }
    bump();
    return true;
  }

  bool primary(Expr& out, int depth) {
    const Token& t = cur();
    switch (t.kind) {
      case TokenKind::integer:
      case TokenKind::hex: {
        IntExpr i;
        if (!integer(i, false)) return false;
        out.v = i;
        return true;
      }
      case TokenKind::ellipsis:
        out.v = EllipsisExpr{};
        bump();
        return true;
      case TokenKind::string: {
        StringExpr s;
        while (cur().kind == TokenKind::string) {  // "a" "b" concatenates, as in C
          s.value += cur().value;
          bump();
        }
        if (cur().kind == TokenKind::ellipsis && !cur().starts_line) {
          s.trailing_ellipsis = true;
          bump();
        }
        out.v = std::move(s);
        return true;
      }
      case TokenKind::word: {
        std::string name(t.text);
        bump();
        if (!cur().is('(')) {
          out.v = WordExpr{std::move(name)};
          return true;
        }
        bump();
        CallExpr call{std::move(name), {}};
        if (!list_items(call.args, ')', "',' or ')' in the argument list", depth)) return false;
        out.v = std::move(call);
        return true;
      }
      case TokenKind::punct:
        break;
      default:
        return expected("a value");
    }
    if (t.is('-') && (ahead(1).kind == TokenKind::integer || ahead(1).kind == TokenKind::hex)) {
      bump();
      IntExpr i;
      if (!integer(i, true)) return false;
      out.v = i;
      return true;
    }
    if (t.is('[')) {
      bump();
      ListExpr list;
      if (!list_items(list.items, ']', "',' or ']' in the list", depth)) return false;
      out.v = std::move(list);
      return true;
    }
    if (t.is('{')) {
      bump();
      StructExpr st;
      if (cur().is('}')) {
        bump();
        out.v = std::move(st);
        return true;
      }
      for (;;) {
        if (cur().kind != TokenKind::word) return expected("field name");
        StructField field;
        field.name = std::string(cur().text);
        bump();
        if (cur().is('(')) {  // packetdrill's msghdr: {msg_name(...)=...}
          return fail_at(cur().loc, "expected '=' after field name '" + field.name +
                                        "', got unsupported msghdr form '" + field.name + "(...)'");
        }
        if (!expect_punct('=', "'=' after field name '" + field.name + "'")) return false;
        if (!expr(field.value, depth + 1)) return false;
        st.fields.push_back(std::move(field));
        if (cur().is(',')) {
          bump();
          continue;
        }
        if (cur().is('}')) {
          bump();
          break;
        }
        return expected("',' or '}' in the struct");
      }
      out.v = std::move(st);
      return true;
    }
    return expected("a value");
  }

  // Comma-separated expressions up to `close` (the opening bracket consumed).
  bool list_items(std::vector<Expr>& items, char close, const std::string& what, int depth) {
    if (cur().is(close)) {
      bump();
      return true;
    }
    for (;;) {
      Expr e;
      if (!expr(e, depth + 1)) return false;
      items.push_back(std::move(e));
      if (cur().is(',')) {
        bump();
        continue;
      }
      if (cur().is(close)) {
        bump();
        return true;
      }
      return expected(what);
    }
  }

  std::vector<Token> toks_;
  std::string file_;
  size_t i_ = 0;
  size_t event_first_ = 0;
  std::optional<ParseError> error_;
};

ParseError internal_error(const std::string& file, const char* what) {
  return ParseError{file, 0, 0,
                    std::string("expected to finish parsing, got internal error: ") + what};
}

}  // namespace

Result<Script> parse_script(std::string_view text, const ParseOptions& options) noexcept {
  try {
    Parser parser(text, options.file);
    Script script;
    if (!parser.script(script)) return parser.error();
    for (const std::string& arg : options.command_line) {
      std::string_view a = arg;
      if (a.substr(0, 2) == "--") a.remove_prefix(2);
      if (auto e = apply_header_option(a, "command line", SourceLoc{}, script.options)) return *e;
    }
    return script;
  } catch (const std::exception& e) {
    return internal_error(options.file, e.what());
  }
}

Result<Script> parse_script_file(const std::string& path, ParseOptions options) noexcept {
  try {
    if (options.file.empty() || options.file == ParseOptions{}.file) options.file = path;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return ParseError{
          options.file, 0, 0,
          std::string("expected a readable script file, got ") + std::strerror(errno)};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_script(text.str(), options);
  } catch (const std::exception& e) {
    return internal_error(options.file, e.what());
  }
}

Result<Packet> parse_packet(std::string_view text, const std::string& file) noexcept {
  try {
    Parser parser(text, file);
    Packet p;
    if (!parser.single_packet(p)) return parser.error();
    return p;
  } catch (const std::exception& e) {
    return internal_error(file, e.what());
  }
}

}  // namespace synq::script
