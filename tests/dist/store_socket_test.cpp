// Rank 0's store listens on MASTER_ADDR's interface only: loopback stays loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "safetrain/dist/communicator.hpp"
#include "safetrain/dist/store_socket.hpp"

using namespace safetrain::dist;

namespace {

std::string bound_address(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address)->sin_addr, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

TEST(StoreSocket, LoopbackMasterListensOnLoopbackOnly) {
  const int fd = listen_on_master_address("127.0.0.1", 0);  // port 0: any free one
  EXPECT_EQ(bound_address(fd), "127.0.0.1");
  ::close(fd);
  const int by_name = listen_on_master_address("localhost", 0);
  const std::string address = bound_address(by_name);
  EXPECT_TRUE(address == "127.0.0.1" || address == "::1") << address;
  ::close(by_name);
}

TEST(StoreSocket, AnAddressOfAnotherMachineIsRefusedNamingIt) {
  try {
    ::close(listen_on_master_address("192.0.2.1", 29555));  // TEST-NET-1: never this machine's
    FAIL() << "bound to an address this machine does not have";
  } catch (const DistributedError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on MASTER_ADDR 192.0.2.1:29555"), std::string::npos) << e.what();
  }
}
