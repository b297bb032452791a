extern "C" {
#include "postgres.h"
#include "storage/proc.h"
}

#include "pg/received_message.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/util/error.hpp"

namespace abdm_pg {
namespace {

struct Received {
  LocalTransactionId lxid;
  std::string hip_id, request_id;  // request id lower-cased, as uuid::text prints it
  abdm::proto::InboundMessage message;
};

// One entry: receive() checks a call and hands it to its handler before it checks another.
std::optional<Received> g_received;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

void remember_received(const std::string& hip_id, const std::string& request_id, abdm::proto::InboundMessage message) {
  g_received.reset();
  g_received.emplace(Received{MyProc->lxid, hip_id, lower(request_id), std::move(message)});
}

const abdm::proto::InboundMessage& received_message(const std::string& hip_id, const std::string& request_id,
                                                    abdm::proto::MessageKind kind) {
  if (!g_received || g_received->lxid != MyProc->lxid || g_received->hip_id != hip_id ||
      g_received->request_id != lower(request_id) || g_received->message.kind != kind)
    throw abdm::Error("55000", "request_id",
                      "no " + std::string(abdm::proto::kind_name(kind)) + " message " + request_id +
                          " is being received in this transaction (call this from receive()'s handler)");
  return g_received->message;
}

}  // namespace abdm_pg
