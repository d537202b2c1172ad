// synq::Stack: the public face, forwarding to StackImpl.
#include "synq/stack.hpp"

#include "stack/stack_impl.hpp"

namespace synq {

Stack::Stack(StackConfig config) : impl_(std::make_unique<StackImpl>(std::move(config))) {}
Stack::~Stack() = default;
Stack::Stack(Stack&&) noexcept = default;
Stack& Stack::operator=(Stack&&) noexcept = default;

void Stack::input(Time now, std::span<const uint8_t> p) {
  impl_->input(now, p);
}
void Stack::advance(Time now) {
  impl_->advance(now);
}
Time Stack::next_deadline() const {
  return impl_->next_deadline();
}
void Stack::drain_output(const std::function<void(std::span<const uint8_t>)>& sink) {
  impl_->drain_output(sink);
}
Time Stack::now() const {
  return impl_->now();
}
void Stack::drain_ready(const std::function<void(int, uint32_t)>& sink) {
  impl_->drain_ready(sink);
}
bool Stack::has_ready() const {
  return impl_->has_ready();
}

Result<int> Stack::socket(SockType type, IpVersion family) {
  return impl_->socket(type, family);
}
Errno Stack::bind(int fd, const Endpoint& local) {
  return impl_->bind(fd, local);
}
Errno Stack::listen(int fd, int backlog) {
  return impl_->listen(fd, backlog);
}
Errno Stack::listen_python(int fd, std::optional<int> backlog) {
  // CPython Modules/socketmodule.c sock_listen: SOMAXCONN from the C library's
  // headers (glibc: 4096), capped at 128 by default; "force a minimum value of 0".
  constexpr int kLibcSomaxconn = 4096;
  int b = backlog.value_or(std::min(kLibcSomaxconn, 128));
  if (b < 0) b = 0;
  return impl_->listen(fd, b);
}
Errno Stack::set_listen_model(int fd, std::string_view model) {
  return impl_->set_listen_model(fd, model);
}
Result<int> Stack::accept(int fd, Endpoint* peer) {
  return impl_->accept(fd, peer);
}
Errno Stack::connect(int fd, const Endpoint& remote) {
  return impl_->connect(fd, remote);
}
Result<size_t> Stack::send(int fd, std::span<const uint8_t> data) {
  return impl_->send(fd, data);
}
Result<size_t> Stack::recv(int fd, std::span<uint8_t> buf) {
  return impl_->recv(fd, buf);
}
Result<size_t> Stack::readable_bytes(int fd) const {
  return impl_->readable_bytes(fd);
}
Result<size_t> Stack::sendto(int fd, std::span<const uint8_t> data, const Endpoint& to) {
  return impl_->sendto(fd, data, to);
}
Result<size_t> Stack::recvfrom(int fd, std::span<uint8_t> buf, Endpoint* from) {
  return impl_->recvfrom(fd, buf, from);
}
Errno Stack::shutdown(int fd, ShutdownHow how) {
  return impl_->shutdown(fd, how);
}
Errno Stack::close(int fd) {
  return impl_->close(fd);
}
Errno Stack::setsockopt(int fd, SockOpt opt, int value) {
  return impl_->setsockopt(fd, opt, value);
}
Result<int> Stack::getsockopt(int fd, SockOpt opt) {
  return impl_->getsockopt(fd, opt);
}
Errno Stack::set_linger(int fd, Linger linger) {
  return impl_->set_linger(fd, linger);
}
Result<Linger> Stack::get_linger(int fd) const {
  return impl_->get_linger(fd);
}
Result<Endpoint> Stack::getsockname(int fd) const {
  return impl_->getsockname(fd);
}
Result<Endpoint> Stack::getpeername(int fd) const {
  return impl_->getpeername(fd);
}
Result<uint32_t> Stack::poll(int fd) const {
  return impl_->poll(fd);
}
Result<TcpState> Stack::state(int fd) const {
  return impl_->state(fd);
}

Counters& Stack::counters() {
  return impl_->counters();
}
const Counters& Stack::counters() const {
  return impl_->counters();
}
Sysctls& Stack::sysctls() {
  return impl_->sysctls();
}
const Sysctls& Stack::sysctls() const {
  return impl_->sysctls();
}
const std::string& Stack::name() const {
  return impl_->name();
}
const std::vector<IpAddr>& Stack::addresses() const {
  return impl_->addresses();
}
std::vector<SocketInfo> Stack::sockets() const {
  return impl_->sockets();
}
Result<ListenerQueues> Stack::listener_queues(int fd) const {
  return impl_->listener_queues(fd);
}
void Stack::set_listen_trace(ListenTrace trace) {
  impl_->set_listen_trace(std::move(trace));
}

}  // namespace synq
