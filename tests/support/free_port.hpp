#pragma once
// A TCP port on the loopback interface that nothing listens on right now (the kernel picks it for a
// socket bound to port 0), for rendezvous stores in tests that run in parallel.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace safetrain::testing_support {

inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace safetrain::testing_support
