// The lab's records name counters the way the runner found them (the
// X-macro's bare "ListenOverflows", "sc_bucketoverflow"); everything it
// prints or writes names them by counter_display_name, so the summary, the
// timeline, the decisions and the JSON all say "TcpExtListenOverflows" or,
// for the freebsd model, netstat's "syncache bucket overflow".
#pragma once

#include <string>
#include <string_view>

namespace synq::lab {

/// The display name of the counter `name` refers to in any form
/// counter_by_name accepts; `name` unchanged if it names no counter.
std::string counter_label(std::string_view name);

/// `text` with a trailing " [counter]" tag (a decision's line, a drop
/// reason) relabelled by counter_label; other text unchanged.
std::string relabel_counter_tag(std::string_view text);

}  // namespace synq::lab
