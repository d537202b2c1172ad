#include "listen/backlog_model.hpp"

#include "listen/linux_model.hpp"

namespace synq::listen {

std::unique_ptr<BacklogModel> make_backlog_model(std::string_view name) {
  if (name == "linux") return std::make_unique<LinuxModel>();
  // TODO(issue 3): "bsd44", "freebsd" and "xnu" (spec §3–§5).
  return nullptr;
}

}  // namespace synq::listen
