// The report's ladder diagrams: one client's handshake drawn packet by
// packet, client and server as two vertical lines with time flowing down,
// each packet an arrow from its send time to its delivery time, and each
// listener decision marked on the server line where it was taken. Inline SVG
// built here, so the page needs no script to show it and tests can count its
// arrows and markers.
#pragma once

#include <cstddef>
#include <string>

#include "lab/lab_run.hpp"

namespace synq::lab {

/// Ladders are drawn for runs a person can follow client by client (the
/// seeds story): at most this many clients, with a recorded timeline.
inline constexpr int kLadderMaxClients = 40;
bool ladder_fits(const LabResult& r);

/// A packet line labelled like tcpdump — "[S] seq 0", "[P.] seq 1:101, ack 1,
/// length 100" — with sequence numbers relative to each side's initial one
/// (`client_isn`, `server_isn`; a side whose ISN is unknown is printed as is).
struct Isns {
  bool have_client = false, have_server = false;
  uint32_t client = 0, server = 0;
};
std::string packet_label(const TimelineEntry& e, const Isns& isn);

/// How many of a client's listener decisions are worth a look (anything but
/// a created request or a completed handshake): the page opens on the client
/// with the most.
size_t notable_decisions(const LabResult& r, int client);

/// One client's ladder as an <svg class="ladder"> element. Packets are <g
/// class="pkt" data-flags=... data-dir="c2s|s2c" data-lost="0|1">, decisions
/// <g class="decision" data-decision=... data-kind=... data-counter=...
/// data-reason=...> (kind as in the story: third_ack_ignored, syn_dropped,
/// ack_refused, synack_retransmitted, rst, ...; reason the decision's
/// reason key). A decision's label comes from its reason key, so each model's
/// drop says what it is ("ACK refused: accept queue full" on FreeBSD, "third
/// ACK ignored: accept queue full" on Linux).
std::string ladder_svg(const LabResult& r, int client);

}  // namespace synq::lab
