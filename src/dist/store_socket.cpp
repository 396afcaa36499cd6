#include "safetrain/dist/store_socket.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "safetrain/dist/communicator.hpp"

namespace safetrain::dist {
namespace {

[[noreturn]] void fail(const std::string& address, int port, const std::string& cause) {
  throw DistributedError("ddp: rank 0 cannot listen on MASTER_ADDR " + address + ":" + std::to_string(port) + ": " +
                         cause + " (MASTER_ADDR must be an address of the machine running rank 0)");
}

}  // namespace

int listen_on_master_address(const std::string& address, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &found); rc != 0) {
    fail(address, port, ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      ::freeaddrinfo(found);
      return fd;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  fail(address, port, last_error);
}

}  // namespace safetrain::dist
