// Every member of every example body, deleted or replaced by a value of each JSON type, must
// either parse or be refused with abdm::Error — never another exception, never a crash — and a
// refusal must serialise to an ABDM error object. (Issue 6: malformed bodies get a clear error.)
#include <gtest/gtest.h>

#include <functional>

#include "core/abdm/error_reply.hpp"
#include "core/abdm/inbound.hpp"

using namespace abdm::proto;
using nlohmann::json;

namespace {

struct Example {
  MessageKind kind;
  const char* body;
};

const Example kExamples[] = {
    {MessageKind::kDiscover, R"({"transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92", "patient": {"id": "9167@sbx",
      "verifiedIdentifiers": [{"type": "MOBILE", "value": "9800083232"}, {"type": "ABHA_NUMBER", "value": "91178386101731"}],
      "unverifiedIdentifiers": [{"type": "MR", "value": "TMH-1"}], "name": "User 1", "gender": "M", "yearOfBirth": 1990}})"},
    {MessageKind::kLinkInit, R"({"transactionId": "5042908f-6f2c-4d5e-9c1a-0b1c2d3e4f50", "abhaAddress": "a@sbx",
      "patient": [{"referenceNumber": "P1", "careContexts": [{"referenceNumber": "C1"}], "hiType": "Prescription", "count": 1}]})"},
    {MessageKind::kLinkConfirm, R"({"confirmation": {"token": "123456", "linkRefNumber": "7c1e4bb2-58a4-4a53-8f0e-3c4d2b1a0f99"}})"},
    {MessageKind::kConsentNotify, R"({"notification": {"status": "GRANTED", "consentId": "1876f659-bb20-4000-88dc-b45f97252901",
      "consentDetail": {"schemaVersion": "", "consentId": "1876f659-bb20-4000-88dc-b45f97252901", "createdAt": "2024-05-20T11:29:00.000Z",
        "patient": {"id": "a@sbx"}, "careContexts": [{"patientReference": "P1", "careContextReference": "C1"}],
        "purpose": {"text": "Care Management", "code": "CAREMGT", "refUri": "http://x"}, "hip": {"id": "HIP_700", "name": "H"},
        "hiu": {"id": "HIU"}, "requester": {"name": "Dr"}, "consentManager": {"id": "sbx"}, "hiTypes": ["OPConsultation"],
        "permission": {"accessMode": "VIEW", "dateRange": {"from": "2020-11-25T12:30:29.592Z", "to": "2024-04-18T12:30:29.592Z"},
          "dataEraseAt": "2025-12-20T12:30:29.592Z", "frequency": {"unit": "MONTH", "value": 12, "repeats": 12}}},
      "signature": "c2ln", "grantAcknowledgement": false}})"},
    {MessageKind::kHiRequest, R"({"transactionId": "a1b2c3d4-1111-4222-8333-444455556666", "hiRequest": {
      "consent": {"id": "1876f659-bb20-4000-88dc-b45f97252901"},
      "dateRange": {"from": "2023-01-01T00:00:00.000Z", "to": "2024-05-20T00:00:00.000Z"},
      "dataPushUrl": "https://hiu.example/data/notification",
      "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519",
        "dhPublicKey": {"expiry": "2024-05-21T00:00:00.000Z", "parameters": "Curve25519/32byte random key",
          "keyValue": "BAheD5rUqTy4V5xR4/6HWmYpopu5CO+KO8BECS0udNqUTSNo91TIqIIy1A4Vh+F94c+n9vAcwXU2bGcfsI5f69Y="},
        "nonce": "6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg="}}})"},
    {MessageKind::kOnGenerateToken, R"({"abhaAddress": "a@sbx", "linkToken": "eyJhbGciOiJSUzUxMiJ9.eyJleHAiOjE3NjcyMjU2MDB9.c2ln",
      "error": {"code": "ABDM-1207: ", "message": "m"}, "response": {"requestId": "11111111-2222-4333-8444-555555555555"}})"},
    {MessageKind::kOnCareContext, R"({"abhaAddress": "a@sbx", "status": "ok", "error": {"code": "ABDM-1056", "message": "m"},
      "response": {"requestId": "11111111-2222-4333-8444-555555555555"}})"},
    {MessageKind::kContextOnNotify, R"({"requestId": "r", "timestamp": "t", "acknowledgement": {"status": "SUCCESS"},
      "error": {"code": 1, "message": "m"}, "response": {"requestId": "11111111-2222-4333-8444-555555555555"}})"},
    {MessageKind::kSmsOnNotify, R"({"requestId": "r", "timestamp": "t", "status": "SUCCESS", "error": {"code": "x", "message": "m"},
      "resp": {"requestId": "11111111-2222-4333-8444-555555555555"}})"},
    {MessageKind::kPatientStatusNotify, R"({"requestId": "r", "notification": {"status": "DELETED", "patient": {"id": "a@sbx"}}})"},
};

const json kReplacements[] = {nullptr, 0, -1, 1e300, 18446744073709551615ULL, true, "", " ", "x", std::string(70000, 'y'),
                              "\xe0\xa4\xb9", json::array(), json::array({json::array({json::array()})}), json::object(),
                              json::object({{"a", json::object({{"b", 1}})}})};

void walk(const json& j, const json::json_pointer& at, const std::function<void(const json::json_pointer&)>& visit) {
  visit(at);
  if (j.is_object())
    for (const auto& [k, v] : j.items()) walk(v, at / k, visit);
  else if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i) walk(j[i], at / i, visit);
}

// Parses, and on success also normalises and serialises; counts the outcome.
void try_body(MessageKind kind, const json& body, std::size_t& refused, std::size_t& accepted) {
  try {
    const InboundMessage m = parse_inbound(kind, body);
    const std::string text = to_json(m).dump();
    ++accepted;
  } catch (const abdm::Error& e) {
    const ErrorReply r = error_reply(e);
    EXPECT_FALSE(r.body().dump().empty());
    EXPECT_TRUE(r.http_status == 400) << e.what();
    ++refused;
  }
  // Anything else escapes and fails the test.
}

}  // namespace

TEST(InboundMutation, EveryMemberDeletedOrRetyped) {
  std::size_t refused = 0, accepted = 0, cases = 0;
  for (const Example& ex : kExamples) {
    const json good = json::parse(ex.body);
    const std::size_t refused_before = refused;
    try_body(ex.kind, good, refused, accepted);
    ASSERT_EQ(refused, refused_before) << kind_name(ex.kind) << " example refused";
    walk(good, json::json_pointer(), [&](const json::json_pointer& ptr) {
      if (ptr.empty()) return;
      json del = good;
      if (del.at(ptr.parent_pointer()).is_object()) del.at(ptr.parent_pointer()).erase(ptr.back());
      else del.at(ptr.parent_pointer()).erase(std::stoul(ptr.back()));
      try_body(ex.kind, del, refused, accepted);
      ++cases;
      for (const json& r : kReplacements) {
        json mutated = good;
        mutated[ptr] = r;
        try_body(ex.kind, mutated, refused, accepted);
        ++cases;
      }
    });
    // The whole body replaced.
    for (const json& r : kReplacements) {
      if (r.is_null() || (r.is_object() && r.empty())) continue;  // "body missing", tested elsewhere
      try {
        parse_inbound(ex.kind, r);
      } catch (const abdm::Error&) {
      }
    }
  }
  EXPECT_GT(cases, 1000u);
  EXPECT_GT(refused, cases / 2);  // most mutations of a required field are refused
  EXPECT_GT(accepted, 10u);       // optional members may change without harm
}
