// The kernel's own per-listener evidence, counted by BPF programs attached to
// the passive-open path (src/doctor/bpf/listen_evidence.bpf.c, CO-RE against
// /sys/kernel/btf/vmlinux; tracepoints, raw tracepoints and a cgroup_skb
// ingress program on the cgroup v2 root: no kprobes, which kernels built
// without CONFIG_KPROBES lack).
// Counts are kept in kernel maps keyed by listener and read on demand.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "doctor/snapshot.hpp"

namespace synq::doctor {

class EvidenceProbe {
 public:
  /// Loads and attaches the programs. On failure returns nullptr and sets
  /// *why to one line for the user that says what is missing and what still
  /// works, e.g. "per-port kernel evidence unavailable: loading BPF needs root
  /// (CAP_BPF and CAP_PERFMON); queues, knobs and counters are still shown".
  static std::unique_ptr<EvidenceProbe> start(std::string* why);
  ~EvidenceProbe();
  EvidenceProbe(const EvidenceProbe&) = delete;
  EvidenceProbe& operator=(const EvidenceProbe&) = delete;

  /// Every listener seen since start (all namespaces), cumulative counts.
  std::vector<ListenerEvidence> read() const;

 private:
  struct Impl;
  explicit EvidenceProbe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synq::doctor
