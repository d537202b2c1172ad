#include "listen/backlog_model.hpp"

#include "listen/bsd44_model.hpp"
#include "listen/freebsd_model.hpp"
#include "listen/linux_model.hpp"
#include "listen/xnu_model.hpp"

#include "listen/passive_open.hpp"

namespace synq::listen {

void BacklogModel::on_listener_close(PassiveOpener& po, Listener& l) {
  po.drop_all_requests(l);
}

std::unique_ptr<BacklogModel> make_backlog_model(std::string_view name) {
  if (name == "linux") return std::make_unique<LinuxModel>();
  if (name == "bsd44") return std::make_unique<Bsd44Model>();
  if (name == "freebsd") return std::make_unique<FreeBsdModel>();
  if (name == "xnu") return std::make_unique<XnuModel>();
  return nullptr;
}

}  // namespace synq::listen
