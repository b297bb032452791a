#include <gtest/gtest.h>

#include "core/abdm/hi_request_check.hpp"
#include "core/abdm/link_confirm_check.hpp"
#include "core/abdm/otp.hpp"
#include "core/crypto/fidelius_keys.hpp"
#include "core/util/base64.hpp"

using namespace abdm::proto;
using nlohmann::json;
using namespace std::chrono;

namespace {
TimePoint at(const char* s) { return parse_timestamp(s, "t"); }

ConsentNotify granted_notification() {
  return parse_consent_notify(json::parse(R"({"notification": {"status": "GRANTED",
    "consentId": "1876f659-bb20-4000-88dc-b45f97252901",
    "consentDetail": {"consentId": "1876f659-bb20-4000-88dc-b45f97252901", "patient": {"id": "a@sbx"},
      "careContexts": [{"patientReference": "P1", "careContextReference": "C1"},
                       {"patientReference": "P1", "careContextReference": "C2"},
                       {"patientReference": "P1", "careContextReference": "C1"}],
      "purpose": {"code": "CAREMGT", "text": "Care Management"},
      "hip": {"id": "HIP_700"}, "hiTypes": ["Prescription"],
      "permission": {"accessMode": "VIEW", "dateRange": {"from": "2020-01-01T00:00:00.000Z", "to": "2024-01-01T00:00:00.000Z"},
                     "dataEraseAt": "2026-06-01T00:00:00.000Z"}}}})"));
}

StoredConsent granted() { return stored_consent(granted_notification()); }

HiRequest request(const char* from = "2021-01-01T00:00:00.000Z", const char* to = "2023-01-01T00:00:00.000Z",
                  const char* key_expiry = "2026-01-02T00:00:00.000Z") {
  HiRequest r;
  r.transaction_id = "a1b2c3d4-1111-4222-8333-444455556666";
  r.consent_id = "1876f659-bb20-4000-88dc-b45f97252901";
  r.date_from = at(from);
  r.date_to = at(to);
  r.key_material.key_expiry = at(key_expiry);
  r.key_material.key_value = abdm::crypto::x509_public_key_base64(abdm::crypto::generate_key_pair().public_key);
  r.key_material.nonce = "6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg=";
  return r;
}

const TimePoint kNow = at("2026-01-01T10:00:00.000Z");
}  // namespace

TEST(HiRequestCheck, AcceptsConsentedRequest) {
  const auto v = check_hi_request(request(), granted(), "HIP_700", kNow);
  EXPECT_TRUE(v.accepted) << v.message;
  // Exactly the consent's bounds are inside.
  EXPECT_TRUE(check_hi_request(request("2020-01-01T00:00:00Z", "2024-01-01T00:00:00Z"), granted(), "HIP_700", kNow).accepted);
}

TEST(HiRequestCheck, EachRefusalHasItsCode) {
  EXPECT_EQ(check_hi_request(request(), std::nullopt, "HIP_700", kNow).code, "ABDM-1001");
  StoredConsent other = granted();
  other.consent_id = "2876f659-bb20-4000-88dc-b45f97252901";
  EXPECT_EQ(check_hi_request(request(), other, "HIP_700", kNow).code, "ABDM-1001");
  // A tombstone: status and HIP kept, the artefact (dates) deleted.
  StoredConsent revoked{granted().consent_id, "HIP_700", "REVOKED", std::nullopt, std::nullopt, std::nullopt};
  EXPECT_EQ(check_hi_request(request(), revoked, "HIP_700", kNow).code, "ABDM-1062");
  EXPECT_EQ(check_hi_request(request(), granted(), "HIP_999", kNow).code, "ABDM-1035");
  // Another HIP's consent is refused as such whatever its status: the status is not disclosed.
  StoredConsent others_revoked = revoked;
  others_revoked.hip_id = "HIP_999";
  const auto hidden = check_hi_request(request(), others_revoked, "HIP_700", kNow);
  EXPECT_EQ(hidden.code, "ABDM-1035");
  EXPECT_EQ(hidden.message.find("REVOKED"), std::string::npos);
  EXPECT_EQ(check_hi_request(request(), granted(), "HIP_700", at("2026-06-01T00:00:00.000Z")).code, "ABDM-1061");
  EXPECT_EQ(check_hi_request(request("2019-12-31T23:59:59.999Z"), granted(), "HIP_700", kNow).code, "ABDM-1063");
  EXPECT_EQ(check_hi_request(request("2021-01-01T00:00:00Z", "2024-01-01T00:00:00.001Z"), granted(), "HIP_700", kNow).code,
            "ABDM-1063");
  // A reversed range inside the consented one.
  EXPECT_EQ(check_hi_request(request("2022-01-01T00:00:00Z", "2021-01-01T00:00:00Z"), granted(), "HIP_700", kNow).code,
            "ABDM-1063");
  const auto key = check_hi_request(request("2021-01-01T00:00:00Z", "2023-01-01T00:00:00Z", "2026-01-01T10:00:00Z"),
                                    granted(), "HIP_700", kNow);
  EXPECT_FALSE(key.accepted);
  EXPECT_EQ(key.code, "ABDM-9999");
  EXPECT_EQ(key.message.rfind("hiRequest.keyMaterial.dhPublicKey.expiry:", 0), 0u) << key.message;
  HiRequest bad_key = request();
  bad_key.key_material.key_value = "AAAA";
  const auto bad = check_hi_request(bad_key, granted(), "HIP_700", kNow);
  EXPECT_EQ(bad.code, "ABDM-9999");
  EXPECT_EQ(bad.message.rfind("hiRequest.keyMaterial.dhPublicKey.keyValue:", 0), 0u) << bad.message;
}

// Content problems the parser once refused with a bare 400 are the check's: the HIU is told in
// on-request (ERRORED) why its request cannot be served.
TEST(HiRequestCheck, KeyMaterialThatDoesNotDecodeIsRefusedByName) {
  auto refused = [](auto&& change) {
    HiRequest r = request();
    change(r.key_material);
    return check_hi_request(r, granted(), "HIP_700", kNow);
  };
  for (const char* nonce : {"c2hvcnQ=", "not base64!", ""}) {
    const auto v = refused([&](KeyMaterial& k) { k.nonce = nonce; });
    EXPECT_EQ(v.code, "ABDM-9999") << nonce;
    EXPECT_EQ(v.message, "hiRequest.keyMaterial.nonce: must be base64 of 32 bytes") << nonce;
  }
  const std::vector<std::uint8_t> compressed(65, 0x02), x25519(32, 0x09);
  for (const std::string& key : {std::string("c2hvcnQ="), abdm::base64_encode(compressed), abdm::base64_encode(x25519),
                                 std::string("not base64!")}) {
    const auto v = refused([&](KeyMaterial& k) { k.key_value = key; });
    EXPECT_FALSE(v.accepted) << key;
    EXPECT_EQ(v.message.rfind("hiRequest.keyMaterial.dhPublicKey.keyValue: not a Curve25519 public key", 0), 0u) << key;
  }
}

TEST(HiRequestCheck, EveryRefusalNamesItsField) {
  EXPECT_EQ(check_hi_request(request(), std::nullopt, "HIP_700", kNow).message.rfind("hiRequest.consent.id:", 0), 0u);
  EXPECT_EQ(check_hi_request(request("2019-01-01T00:00:00Z"), granted(), "HIP_700", kNow).message.rfind("hiRequest.dateRange:", 0),
            0u);
}

TEST(HiRequestCheck, ConsentedCareContextsDeduplicated) {
  const auto cs = consented_care_contexts(*granted_notification().detail);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[1].care_context_reference, "C2");
}

TEST(LinkConfirmCheck, Outcomes) {
  const PendingLink p{hash_otp("123456"), kNow + minutes{10}, 0};
  auto ok = check_link_confirm("123456", p, kNow);
  EXPECT_EQ(ok.outcome, LinkConfirmOutcome::kLinked);
  EXPECT_EQ(ok.code, "");

  auto wrong = check_link_confirm("654321", p, kNow);
  EXPECT_EQ(wrong.outcome, LinkConfirmOutcome::kWrongOtp);
  EXPECT_EQ(wrong.code, "ABDM-1035");
  EXPECT_EQ(wrong.message, "Incorrect OTP");
  EXPECT_EQ(wrong.attempts_after, 1);

  auto unknown = check_link_confirm("123456", std::nullopt, kNow);
  EXPECT_EQ(unknown.outcome, LinkConfirmOutcome::kUnknownReference);

  auto expired = check_link_confirm("123456", p, kNow + minutes{10});
  EXPECT_EQ(expired.outcome, LinkConfirmOutcome::kExpired);
  EXPECT_EQ(outcome_name(expired.outcome), "expired");

  PendingLink exhausted = p;
  exhausted.attempts = 3;
  auto limit = check_link_confirm("123456", exhausted, kNow);  // even the right OTP is refused
  EXPECT_EQ(limit.outcome, LinkConfirmOutcome::kTooManyAttempts);
  EXPECT_EQ(limit.attempts_after, 3);
  EXPECT_EQ(check_link_confirm("123456", exhausted, kNow, 5).outcome, LinkConfirmOutcome::kLinked);

  // Distinct messages for each refusal.
  EXPECT_NE(unknown.message, expired.message);
  EXPECT_NE(expired.message, limit.message);
  EXPECT_NE(limit.message, wrong.message);
}

TEST(LinkConfirmCheck, ThreeWrongAttemptsLockOut) {
  PendingLink p{hash_otp("111111"), kNow + minutes{10}, 0};
  for (int i = 0; i < 3; ++i) {
    auto v = check_link_confirm("000000", p, kNow);
    ASSERT_EQ(v.outcome, LinkConfirmOutcome::kWrongOtp);
    p.attempts = v.attempts_after;
  }
  EXPECT_EQ(check_link_confirm("111111", p, kNow).outcome, LinkConfirmOutcome::kTooManyAttempts);
}
