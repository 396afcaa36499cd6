#pragma once
// The listening socket of rank 0's TCPStore, bound to MASTER_ADDR's own interface (c10d's TCPStore
// listens on every interface by itself): a single-machine run with MASTER_ADDR=127.0.0.1 stays on
// loopback, a multi-machine run listens only on the address the other ranks dial.
#include <string>

namespace safetrain::dist {

// A socket listening on `address`:`port` (a name or a numeric IPv4/IPv6 address), close-on-exec,
// SO_REUSEADDR; DistributedError naming the address and the cause when it cannot be bound.
int listen_on_master_address(const std::string& address, int port);

}  // namespace safetrain::dist
