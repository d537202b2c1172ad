#include "synq/trace.hpp"

namespace synq {

std::string_view listen_decision_name(ListenDecision d) {
  switch (d) {
    case ListenDecision::request:
      return "request";
    case ListenDecision::cookie:
      return "cookie";
    case ListenDecision::drop:
      return "drop";
    case ListenDecision::rst:
      return "rst";
    case ListenDecision::complete:
      return "complete";
    case ListenDecision::expire:
      return "expire";
    case ListenDecision::synack:
      return "synack";
    case ListenDecision::ack:
      return "ack";
    case ListenDecision::ignore:
      return "ignore";
  }
  return "?";
}

}  // namespace synq
