// Every inbound V3 body of NHA "Sandbox Documentation (ABDM Milestone 2)" v2.8 (as quoted in the
// project's protocol notes) parses; every required field, removed, is named in the error.
#include "core/abdm/inbound.hpp"

#include <gtest/gtest.h>

#include "core/abdm/error_reply.hpp"
#include "core/util/base64.hpp"

using namespace abdm::proto;
using nlohmann::json;

namespace {

const char* kDiscover = R"({
  "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
  "patient": {
    "id": "9167@sbx",
    "verifiedIdentifiers":   [ {"type": "MOBILE", "value": "987654XXXX"},
                               {"type": "ABHA_NUMBER", "value": "916248419XXXX"} ],
    "unverifiedIdentifiers": [ {"type": "MR", "value": "987654XXXX"} ],
    "name": "User 1", "gender": "M", "yearOfBirth": 1990
  }
})";

const char* kLinkInit = R"({ "transactionId": "5042908f-6f2c-4d5e-9c1a-0b1c2d3e4f50", "abhaAddress": "9162484106XXXX@sbx",
  "patient": [ { "referenceNumber": "TMH-PUID-001",
                 "careContexts": [ {"referenceNumber": "OPD-2023-10-03"} ],
                 "hiType": "Prescription", "count": 1 } ] })";

const char* kLinkConfirm = R"({"confirmation": {"token": "123456", "linkRefNumber": "7c1e4bb2-58a4-4a53-8f0e-3c4d2b1a0f99"}})";

const char* kConsentGranted = R"({
  "notification": {
    "status": "GRANTED",
    "consentId": "1876f659-bb20-4000-88dc-b45f97252901",
    "consentDetail": {
      "schemaVersion": "",
      "consentId": "1876f659-bb20-4000-88dc-b45f97252901",
      "createdAt": "2024-05-20T11:29:00.000Z",
      "patient": { "id": "hinapatel79@sbx" },
      "careContexts": [ { "patientReference": "TMH-PUID-001", "careContextReference": "OPD-2023-10-03" } ],
      "purpose": { "text": "Care Management", "code": "CAREMGT",
                   "refUri": "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse" },
      "hip": { "id": "HIP_700", "name": "My Hospital" },
      "consentManager": { "id": "sbx" },
      "hiTypes": [ "OPConsultation", "Prescription" ],
      "permission": {
        "accessMode": "VIEW",
        "dateRange": { "from": "2020-11-25T12:30:29.592Z", "to": "2024-04-18T12:30:29.592Z" },
        "dataEraseAt": "2025-12-20T12:30:29.592Z",
        "frequency": { "unit": "MONTH", "value": 12, "repeats": 12 }
      }
    },
    "signature": "c2lnbmF0dXJl",
    "grantAcknowledgement": false
  }
})";

// Fidelius test values (abdm-docs fidelius-cli.md): a 65-byte uncompressed key and a 32-byte nonce.
const char* kHiRequest = R"({
  "transactionId": "a1b2c3d4-1111-4222-8333-444455556666",
  "hiRequest": {
    "consent": { "id": "1876f659-bb20-4000-88dc-b45f97252901" },
    "dateRange": { "from": "2023-01-01T00:00:00.000Z", "to": "2024-05-20T00:00:00.000Z" },
    "dataPushUrl": "https://hiu.example/data/notification",
    "keyMaterial": {
      "cryptoAlg": "ECDH",
      "curve": "Curve25519",
      "dhPublicKey": { "expiry": "2024-05-21T00:00:00.000Z",
                       "parameters": "Curve25519/32byte random key",
                       "keyValue": "BAheD5rUqTy4V5xR4/6HWmYpopu5CO+KO8BECS0udNqUTSNo91TIqIIy1A4Vh+F94c+n9vAcwXU2bGcfsI5f69Y=" },
      "nonce": "6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg="
    }
  }
})";

std::string b64url(const std::string& s) {
  std::string b = abdm::base64_encode(std::string_view(s));
  for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

std::string link_token() {
  return b64url(R"({"alg":"RS512"})") + "." +
         b64url(R"({"hipId":"IN1410000232_1","sub":"abc@sbx","abhaNumber":91178386101731,"abhaAddress":"abc@sbx","exp":1767225600,"iat":1751457600})") +
         ".c2ln";
}

json on_generate_token() {
  return {{"abhaAddress", "abc@sbx"}, {"linkToken", link_token()},
          {"response", {{"requestId", "11111111-2222-4333-8444-555555555555"}}}};
}

const char* kOnCareContext = R"({ "abhaAddress": "abc@sbx", "status": "Successfully Linked care context",
  "response": { "requestId": "11111111-2222-4333-8444-555555555555" } })";

const char* kContextOnNotify = R"({"requestId": "5f7a535d-a3fd-416b-b069-c97d021fbacd", "timestamp": "2026-01-01T10:00:00.000Z",
  "acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": "11111111-2222-4333-8444-555555555555"}})";

const char* kSmsOnNotify = R"({"requestId": "5f7a535d-a3fd-416b-b069-c97d021fbacd", "timestamp": "2026-01-01T10:00:00.000Z",
  "status": "SUCCESS", "resp": {"requestId": "11111111-2222-4333-8444-555555555555"}})";

const char* kPatientStatus = R"({"requestId": "5f7a535d-a3fd-416b-b069-c97d021fbacd", "timestamp": "2026-01-01T10:00:00.000Z",
  "notification": {"status": "DELETED", "patient": {"id": "hinapatel@sbx"}}})";

struct Refusal {
  std::string field;
  std::string what;
  ErrorReply reply;
};

// What a parse of `body` as `kind` throws (caught by reference: a ProtocolError keeps its own
// status); fails the test when it parses.
Refusal refusal(MessageKind kind, const json& body) {
  try {
    parse_inbound(kind, body);
  } catch (const abdm::Error& e) {
    return {e.field(), e.what(), error_reply(e)};
  }
  ADD_FAILURE() << "accepted " << body.dump();
  return {};
}

// Removes the member at `pointer` and expects the parser to name `field`.
void expect_missing(MessageKind kind, const json& good, const std::string& pointer, const std::string& field) {
  json body = good;
  json::json_pointer ptr(pointer);
  body.at(ptr.parent_pointer()).erase(ptr.back());
  const Refusal e = refusal(kind, body);
  EXPECT_EQ(e.field, field) << "removing " << pointer << ": " << e.what;
}

void expect_bad(MessageKind kind, const json& good, const std::string& pointer, const json& value,
                const std::string& field) {
  json body = good;
  body[json::json_pointer(pointer)] = value;
  const Refusal e = refusal(kind, body);
  EXPECT_EQ(e.field, field) << pointer << " = " << value.dump() << ": " << e.what;
  EXPECT_EQ(e.reply.http_status, 400);
}

// to_json output parses back to the same normalised JSON.
void expect_round_trip(MessageKind kind, const json& body) {
  const json once = to_json(parse_inbound(kind, body));
  json again = to_json(parse_inbound(kind, once));
  EXPECT_EQ(once, again);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST(Route, CanonicalPaths) {
  EXPECT_EQ(route_path("/api/v3/hip/patient/care-context/discover"), MessageKind::kDiscover);
  EXPECT_EQ(route_path("/api/v3/hip/link/care-context/init"), MessageKind::kLinkInit);
  EXPECT_EQ(route_path("/api/v3/hip/link/care-context/confirm"), MessageKind::kLinkConfirm);
  EXPECT_EQ(route_path("/api/v3/consent/request/hip/notify"), MessageKind::kConsentNotify);
  EXPECT_EQ(route_path("/api/v3/hip/health-information/request"), MessageKind::kHiRequest);
  EXPECT_EQ(route_path("/api/v3/hip/token/on-generate-token"), MessageKind::kOnGenerateToken);
  EXPECT_EQ(route_path("/api/v3/link/on_carecontext"), MessageKind::kOnCareContext);
  EXPECT_EQ(route_path("/api/v3/links/context/on-notify"), MessageKind::kContextOnNotify);
  EXPECT_EQ(route_path("/api/v3/patients/sms/on-notify"), MessageKind::kSmsOnNotify);
  EXPECT_EQ(route_path("/api/v3/patients/status/notify"), MessageKind::kPatientStatusNotify);
  for (MessageKind k : {MessageKind::kDiscover, MessageKind::kLinkInit, MessageKind::kLinkConfirm,
                        MessageKind::kConsentNotify, MessageKind::kHiRequest, MessageKind::kOnGenerateToken,
                        MessageKind::kOnCareContext, MessageKind::kContextOnNotify, MessageKind::kSmsOnNotify,
                        MessageKind::kPatientStatusNotify})
    EXPECT_EQ(route_path(canonical_path(k)), k) << kind_name(k);
}

TEST(Route, TolerantSpellings) {
  EXPECT_EQ(route_path("/v3/hip/token/on-generate-token"), MessageKind::kOnGenerateToken);
  EXPECT_EQ(route_path("/v3/hip/link/on-carecontext"), MessageKind::kOnCareContext);
  EXPECT_EQ(route_path("/api/v3/link/on-care-context"), MessageKind::kOnCareContext);
  EXPECT_EQ(route_path("/api/abdm/api/v3/hip/patient/care-context/discover"), MessageKind::kDiscover);
  EXPECT_EQ(route_path("/api/v3/hip/patient/care-context/discover/"), MessageKind::kDiscover);
  EXPECT_EQ(route_path("/api/v3/hip/patient/care-context/discover?x=1"), MessageKind::kDiscover);
  EXPECT_EQ(route_path("/v0.5/patients/status/notify"), MessageKind::kPatientStatusNotify);
}

TEST(Route, UnknownIs404) {
  for (const char* p : {"", "/", "/api/v3/hip/patient/share", "/api/v3/hip/patient/care-context/discover/x",
                        "/api/v3/HIP/patient/care-context/discover", "/v0.5/care-contexts/discover", "api/v3/link/on_carecontext",
                        "/api/v3/"}) {
    try {
      route_path(p);
      ADD_FAILURE() << "routed " << p;
    } catch (const abdm::Error& e) {
      EXPECT_EQ(error_reply(e).http_status, 404) << p;
      EXPECT_EQ(e.field(), "path");
    }
  }
}

TEST(Inbound, EmptyOrNonObjectBody) {
  for (const json& b : std::vector<json>{json(), json::object(), json("")}) {
    const ErrorReply r = refusal(MessageKind::kDiscover, b).reply;
    EXPECT_EQ(r.http_status, 400);
    EXPECT_EQ(r.code, "ABDM-1064");
  }
  const ErrorReply r = refusal(MessageKind::kDiscover, json::array({1})).reply;
  EXPECT_EQ(r.code, "ABDM-9999");
  EXPECT_EQ(refusal(MessageKind::kDiscover, json(42)).reply.code, "ABDM-9999");
}

// --- discover --------------------------------------------------------------------------------

TEST(Discover, ParsesDocumentExample) {
  const auto m = parse_inbound("/api/v3/hip/patient/care-context/discover", json::parse(kDiscover));
  ASSERT_EQ(m.kind, MessageKind::kDiscover);
  const auto& d = std::get<DiscoverRequest>(m.body);
  EXPECT_EQ(d.transaction_id, "03813343-ebc5-4c9f-89b6-6e9a75fd7c92");
  EXPECT_EQ(d.abha_address, "9167@sbx");
  ASSERT_EQ(d.verified_identifiers.size(), 2u);
  EXPECT_EQ(d.verified_identifiers[1].type, "ABHA_NUMBER");
  EXPECT_EQ(d.identifier("MR", false), "987654XXXX");
  EXPECT_FALSE(d.identifier("MR", true));
  EXPECT_EQ(d.gender, "M");
  EXPECT_EQ(d.year_of_birth, 1990);
  const json j = to_json(m);
  EXPECT_EQ(j["kind"], "discover");
  EXPECT_FALSE(j["match"].contains("mobile"));  // masked: not a usable number
  EXPECT_EQ(j["match"]["mr"], "987654XXXX");
  expect_round_trip(MessageKind::kDiscover, json::parse(kDiscover));
}

TEST(Discover, NormalisesIdentifierTypesAndDerivesMatchKeys) {
  json b = json::parse(kDiscover);
  b["patient"]["verifiedIdentifiers"] = json::parse(
      R"([{"type":"mobile","value":"+91-98000-83232"},{"type":"NDHM_HEALTH_NUMBER","value":"91-1783-8610-1731"},{"type":"abhaAddress","value":"9167@sbx"}])");
  b["patient"]["gender"] = "f";
  b["patient"]["yearOfBirth"] = "1990";
  const auto d = parse_discover(b);
  EXPECT_EQ(d.verified_identifiers[0].type, "MOBILE");
  EXPECT_EQ(d.verified_identifiers[1].type, "ABHA_NUMBER");
  EXPECT_EQ(d.verified_identifiers[2].type, "ABHA_ADDRESS");
  EXPECT_EQ(d.gender, "F");
  const json j = to_json(d);
  EXPECT_EQ(j["match"]["mobile"], "9800083232");
  EXPECT_EQ(j["match"]["abhaNumber"], "91178386101731");
  EXPECT_EQ(j["match"]["normalizedName"], "user 1");
}

TEST(Discover, EveryRequiredFieldIsNamed) {
  const json g = json::parse(kDiscover);
  const auto k = MessageKind::kDiscover;
  expect_missing(k, g, "/transactionId", "transactionId");
  expect_missing(k, g, "/patient", "patient");
  expect_missing(k, g, "/patient/id", "patient.id");
  expect_missing(k, g, "/patient/verifiedIdentifiers", "patient.verifiedIdentifiers");
  expect_missing(k, g, "/patient/name", "patient.name");
  expect_missing(k, g, "/patient/gender", "patient.gender");
  expect_missing(k, g, "/patient/yearOfBirth", "patient.yearOfBirth");
  expect_missing(k, g, "/patient/verifiedIdentifiers/0/type", "patient.verifiedIdentifiers[0].type");
  expect_missing(k, g, "/patient/unverifiedIdentifiers/0/value", "patient.unverifiedIdentifiers[0].value");
  json no_unverified = g;
  no_unverified["patient"].erase("unverifiedIdentifiers");
  EXPECT_NO_THROW(parse_discover(no_unverified));
}

TEST(Discover, MalformedValues) {
  const json g = json::parse(kDiscover);
  const auto k = MessageKind::kDiscover;
  expect_bad(k, g, "/transactionId", "not-a-uuid", "transactionId");
  expect_bad(k, g, "/transactionId", 12345, "transactionId");
  expect_bad(k, g, "/patient/gender", "X", "patient.gender");
  expect_bad(k, g, "/patient/yearOfBirth", 1700, "patient.yearOfBirth");
  expect_bad(k, g, "/patient/yearOfBirth", "19x0", "patient.yearOfBirth");
  expect_bad(k, g, "/patient/yearOfBirth", 1990.5, "patient.yearOfBirth");
  expect_bad(k, g, "/patient/name", std::string(2000, 'a'), "patient.name");
  expect_bad(k, g, "/patient/name", "   ", "patient.name");
  expect_bad(k, g, "/patient/name", "a\nb", "patient.name");
  expect_bad(k, g, "/patient/verifiedIdentifiers", "MOBILE", "patient.verifiedIdentifiers");
  expect_bad(k, g, "/patient/verifiedIdentifiers/0", "MOBILE", "patient.verifiedIdentifiers[0]");
  expect_bad(k, g, "/patient", json::array(), "patient");
}

// --- link init / confirm ---------------------------------------------------------------------

TEST(LinkInit, ParsesDocumentExample) {
  const auto m = parse_inbound("/api/v3/hip/link/care-context/init", json::parse(kLinkInit));
  const auto& l = std::get<LinkInitRequest>(m.body);
  EXPECT_EQ(l.abha_address, "9162484106XXXX@sbx");
  ASSERT_EQ(l.patients.size(), 1u);
  EXPECT_EQ(l.patients[0].reference_number, "TMH-PUID-001");
  EXPECT_EQ(l.patients[0].hi_type, "Prescription");
  ASSERT_EQ(l.patients[0].care_contexts.size(), 1u);
  EXPECT_EQ(l.patients[0].care_contexts[0].reference_number, "OPD-2023-10-03");
  expect_round_trip(MessageKind::kLinkInit, json::parse(kLinkInit));
}

TEST(LinkInit, RequiredFieldsAndChecks) {
  const json g = json::parse(kLinkInit);
  const auto k = MessageKind::kLinkInit;
  expect_missing(k, g, "/transactionId", "transactionId");
  expect_missing(k, g, "/abhaAddress", "abhaAddress");
  expect_missing(k, g, "/patient", "patient");
  expect_missing(k, g, "/patient/0/referenceNumber", "patient[0].referenceNumber");
  expect_missing(k, g, "/patient/0/careContexts", "patient[0].careContexts");
  expect_missing(k, g, "/patient/0/careContexts/0/referenceNumber", "patient[0].careContexts[0].referenceNumber");
  expect_bad(k, g, "/patient/0/count", 2, "patient[0].count");
  expect_bad(k, g, "/patient/0/hiType", "XRay", "patient[0].hiType");
  expect_bad(k, g, "/patient", json::array(), "patient");
  expect_bad(k, g, "/patient/0/careContexts", json::array(), "patient[0].careContexts");
  json upper = g;
  upper["patient"][0]["hiType"] = "PRESCRIPTION";
  EXPECT_EQ(parse_link_init(upper).patients[0].hi_type, "Prescription");
}

TEST(LinkConfirm, ParsesAndChecks) {
  const auto m = parse_inbound("/api/v3/hip/link/care-context/confirm", json::parse(kLinkConfirm));
  const auto& c = std::get<LinkConfirmRequest>(m.body);
  EXPECT_EQ(c.token, "123456");
  EXPECT_EQ(c.link_ref_number, "7c1e4bb2-58a4-4a53-8f0e-3c4d2b1a0f99");
  const json g = json::parse(kLinkConfirm);
  const auto k = MessageKind::kLinkConfirm;
  expect_missing(k, g, "/confirmation", "body");  // nothing left: "Request body missing"
  EXPECT_EQ(refusal(k, json::parse(R"({"confirm": {}})")).field, "confirmation");
  expect_missing(k, g, "/confirmation/token", "confirmation.token");
  expect_missing(k, g, "/confirmation/linkRefNumber", "confirmation.linkRefNumber");
  // ABDM's examples send the OTP as a number: its digits, left-padded to the OTP length.
  json as_number = g;
  as_number["confirmation"]["token"] = 123456;
  EXPECT_EQ(std::get<LinkConfirmRequest>(parse_inbound("/api/v3/hip/link/care-context/confirm", as_number).body).token, "123456");
  as_number["confirmation"]["token"] = 12345;  // OTP 012345
  EXPECT_EQ(std::get<LinkConfirmRequest>(parse_inbound("/api/v3/hip/link/care-context/confirm", as_number).body).token, "012345");
  as_number["confirmation"]["token"] = 0;
  EXPECT_EQ(std::get<LinkConfirmRequest>(parse_inbound("/api/v3/hip/link/care-context/confirm", as_number).body).token, "000000");
  as_number["confirmation"]["token"] = 12345678;  // longer than an OTP: kept, and simply wrong
  EXPECT_EQ(std::get<LinkConfirmRequest>(parse_inbound("/api/v3/hip/link/care-context/confirm", as_number).body).token, "12345678");
  expect_bad(k, g, "/confirmation/token", -123456, "confirmation.token");
  expect_bad(k, g, "/confirmation/token", 1234.5, "confirmation.token");
  expect_bad(k, g, "/confirmation/token", "", "confirmation.token");
  expect_round_trip(k, g);
}

// --- consent notify --------------------------------------------------------------------------

TEST(ConsentNotify, ParsesGranted) {
  const auto m = parse_inbound("/api/v3/consent/request/hip/notify", json::parse(kConsentGranted));
  const auto& c = std::get<ConsentNotify>(m.body);
  EXPECT_EQ(c.status, "GRANTED");
  EXPECT_EQ(c.consent_id, "1876f659-bb20-4000-88dc-b45f97252901");
  ASSERT_TRUE(c.detail);
  const ConsentDetail& d = *c.detail;
  EXPECT_EQ(d.patient_id, "hinapatel79@sbx");
  ASSERT_EQ(d.care_contexts.size(), 1u);
  EXPECT_EQ(d.care_contexts[0].care_context_reference, "OPD-2023-10-03");
  EXPECT_EQ(d.purpose_code, "CAREMGT");
  EXPECT_EQ(d.hip_id, "HIP_700");
  EXPECT_EQ(d.consent_manager_id, "sbx");
  EXPECT_EQ(d.hi_types, (std::vector<std::string>{"OPConsultation", "Prescription"}));
  EXPECT_EQ(d.access_mode, "VIEW");
  EXPECT_EQ(format_timestamp(d.date_from), "2020-11-25T12:30:29.592Z");
  EXPECT_EQ(format_timestamp(d.data_erase_at), "2025-12-20T12:30:29.592Z");
  ASSERT_TRUE(d.frequency);
  EXPECT_EQ(d.frequency->repeats, 12);
  EXPECT_EQ(c.grant_acknowledgement, false);
  EXPECT_EQ(to_json(m)["notification"]["consentDetail"]["hiTypes"], json::parse(R"(["OPConsultation","Prescription"])"));
  expect_round_trip(MessageKind::kConsentNotify, json::parse(kConsentGranted));
}

TEST(ConsentNotify, UpperCaseHiTypesAndV3ExtrasAccepted) {
  json b = json::parse(kConsentGranted);
  b["notification"]["consentDetail"]["hiTypes"] = json::parse(R"(["OPCONSULTATION","WELLNESSRECORD","opconsultation"])");
  b["notification"]["consentDetail"]["hiu"] = {{"id", "HIU_1"}};
  b["notification"]["consentDetail"]["requester"] = json::parse(R"({"name":"Dr X","identifier":{"type":"REGNO","value":"1","system":"https://www.mciindia.org"}})");
  const auto c = parse_consent_notify(b);
  EXPECT_EQ(c.detail->hi_types, (std::vector<std::string>{"OPConsultation", "WellnessRecord"}));
  EXPECT_EQ(c.detail->hiu_id, "HIU_1");
  EXPECT_EQ(c.detail->requester["name"], "Dr X");
  expect_round_trip(MessageKind::kConsentNotify, b);
}

TEST(ConsentNotify, NonGrantedWithoutDetail) {
  for (const char* status : {"REVOKED", "EXPIRED", "DENIED", "revoked"}) {
    json b = {{"notification", {{"status", status}, {"consentId", "1876f659-bb20-4000-88dc-b45f97252901"}}}};
    const auto c = parse_consent_notify(b);
    EXPECT_FALSE(c.detail);
    EXPECT_EQ(c.consent_id, "1876f659-bb20-4000-88dc-b45f97252901");
    expect_round_trip(MessageKind::kConsentNotify, b);
  }
  // REVOKED with the detail (as NHA's wrapper expects) also parses, id taken from the detail.
  json b = json::parse(kConsentGranted);
  b["notification"]["status"] = "REVOKED";
  b["notification"].erase("consentId");
  EXPECT_EQ(parse_consent_notify(b).consent_id, "1876f659-bb20-4000-88dc-b45f97252901");
}

TEST(ConsentNotify, RequiredFieldsAndChecks) {
  const json g = json::parse(kConsentGranted);
  const auto k = MessageKind::kConsentNotify;
  const std::string d = "/notification/consentDetail";
  const std::string f = "notification.consentDetail";
  expect_missing(k, g, "/notification", "body");
  EXPECT_EQ(refusal(k, json::parse(R"({"notifications": {}})")).field, "notification");
  expect_missing(k, g, "/notification/status", "notification.status");
  expect_missing(k, g, d, f);
  expect_missing(k, g, d + "/consentId", f + ".consentId");
  expect_missing(k, g, d + "/patient", f + ".patient");
  expect_missing(k, g, d + "/patient/id", f + ".patient.id");
  expect_missing(k, g, d + "/careContexts", f + ".careContexts");
  expect_missing(k, g, d + "/careContexts/0/patientReference", f + ".careContexts[0].patientReference");
  expect_missing(k, g, d + "/careContexts/0/careContextReference", f + ".careContexts[0].careContextReference");
  expect_missing(k, g, d + "/purpose", f + ".purpose");
  expect_missing(k, g, d + "/purpose/code", f + ".purpose.code");
  expect_missing(k, g, d + "/hip", f + ".hip");
  expect_missing(k, g, d + "/hip/id", f + ".hip.id");
  expect_missing(k, g, d + "/hiTypes", f + ".hiTypes");
  expect_missing(k, g, d + "/permission", f + ".permission");
  expect_missing(k, g, d + "/permission/accessMode", f + ".permission.accessMode");
  expect_missing(k, g, d + "/permission/dateRange", f + ".permission.dateRange");
  expect_missing(k, g, d + "/permission/dateRange/from", f + ".permission.dateRange.from");
  expect_missing(k, g, d + "/permission/dateRange/to", f + ".permission.dateRange.to");
  expect_missing(k, g, d + "/permission/dataEraseAt", f + ".permission.dataEraseAt");
  expect_missing(k, g, d + "/permission/frequency/unit", f + ".permission.frequency.unit");
  expect_bad(k, g, "/notification/status", "REQUESTED", "notification.status");
  expect_bad(k, g, "/notification/consentId", "2876f659-bb20-4000-88dc-b45f97252901", f + ".consentId");
  expect_bad(k, g, d + "/hiTypes/1", "Xray", f + ".hiTypes[1]");
  expect_bad(k, g, d + "/permission/dateRange/from", "2025-01-01T00:00:00.000Z", f + ".permission.dateRange");
  expect_bad(k, g, d + "/permission/dataEraseAt", "tomorrow", f + ".permission.dataEraseAt");
  expect_bad(k, g, d + "/permission/accessMode", "DELETE", f + ".permission.accessMode");
  expect_bad(k, g, "/notification/grantAcknowledgement", "no", "notification.grantAcknowledgement");
  expect_bad(k, g, "/notification", json::array({json::object()}), "notification");
  json revoked_no_id = {{"notification", {{"status", "REVOKED"}}}};
  EXPECT_EQ(refusal(k, revoked_no_id).field, "notification.consentId");
}

// --- health-information request --------------------------------------------------------------

TEST(HiRequest, ParsesDocumentExample) {
  const auto m = parse_inbound("/api/v3/hip/health-information/request", json::parse(kHiRequest));
  const auto& h = std::get<HiRequest>(m.body);
  EXPECT_EQ(h.transaction_id, "a1b2c3d4-1111-4222-8333-444455556666");
  EXPECT_EQ(h.consent_id, "1876f659-bb20-4000-88dc-b45f97252901");
  EXPECT_EQ(h.data_push_url, "https://hiu.example/data/notification");
  EXPECT_EQ(format_timestamp(h.date_to), "2024-05-20T00:00:00.000Z");
  EXPECT_EQ(h.key_material.crypto_alg, "ECDH");
  EXPECT_EQ(h.key_material.curve, "Curve25519");
  EXPECT_EQ(format_timestamp(h.key_material.key_expiry), "2024-05-21T00:00:00.000Z");
  EXPECT_EQ(h.key_material.nonce, "6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg=");
  expect_round_trip(MessageKind::kHiRequest, json::parse(kHiRequest));
}

TEST(HiRequest, TransactionIdInsideHiRequestAccepted) {
  json b = json::parse(kHiRequest);
  b["hiRequest"]["transactionId"] = b["transactionId"];
  b.erase("transactionId");
  EXPECT_EQ(parse_hi_request(b).transaction_id, "a1b2c3d4-1111-4222-8333-444455556666");
  b["hiRequest"].erase("transactionId");
  EXPECT_EQ(refusal(MessageKind::kHiRequest, b).field, "transactionId");
}

TEST(HiRequest, X509KeyAccepted) {
  // SubjectPublicKeyInfo-shaped bytes: SEQUENCE ... BIT STRING 00 04 X Y (309 bytes in Fidelius).
  std::vector<std::uint8_t> der(309, 0x11);
  der[0] = 0x30;
  der[309 - 65] = 0x04;
  json b = json::parse(kHiRequest);
  b["hiRequest"]["keyMaterial"]["dhPublicKey"]["keyValue"] = abdm::base64_encode(der);
  EXPECT_NO_THROW(parse_hi_request(b));
}

TEST(HiRequest, RequiredFieldsAndChecks) {
  const json g = json::parse(kHiRequest);
  const auto k = MessageKind::kHiRequest;
  const std::string km = "/hiRequest/keyMaterial";
  const std::string kf = "hiRequest.keyMaterial";
  expect_missing(k, g, "/hiRequest", "hiRequest");
  expect_missing(k, g, "/hiRequest/consent", "hiRequest.consent");
  expect_missing(k, g, "/hiRequest/consent/id", "hiRequest.consent.id");
  expect_missing(k, g, "/hiRequest/dateRange", "hiRequest.dateRange");
  expect_missing(k, g, "/hiRequest/dateRange/from", "hiRequest.dateRange.from");
  expect_missing(k, g, "/hiRequest/dateRange/to", "hiRequest.dateRange.to");
  expect_missing(k, g, "/hiRequest/dataPushUrl", "hiRequest.dataPushUrl");
  expect_missing(k, g, km, kf);
  expect_missing(k, g, km + "/cryptoAlg", kf + ".cryptoAlg");
  expect_missing(k, g, km + "/curve", kf + ".curve");
  expect_missing(k, g, km + "/dhPublicKey", kf + ".dhPublicKey");
  expect_missing(k, g, km + "/dhPublicKey/expiry", kf + ".dhPublicKey.expiry");
  expect_missing(k, g, km + "/dhPublicKey/keyValue", kf + ".dhPublicKey.keyValue");
  expect_missing(k, g, km + "/nonce", kf + ".nonce");
  json no_params = g;
  no_params["hiRequest"]["keyMaterial"]["dhPublicKey"].erase("parameters");
  EXPECT_NO_THROW(parse_hi_request(no_params));

  expect_bad(k, g, "/hiRequest/consent/id", "abc", "hiRequest.consent.id");
  expect_bad(k, g, "/hiRequest/dataPushUrl", "ftp://hiu.example/x", "hiRequest.dataPushUrl");
  expect_bad(k, g, "/hiRequest/dataPushUrl", "https:///x", "hiRequest.dataPushUrl");
  expect_bad(k, g, "/hiRequest/dataPushUrl", "https://" + std::string(3000, 'a'), "hiRequest.dataPushUrl");
  expect_bad(k, g, km + "/cryptoAlg", "RSA", kf + ".cryptoAlg");
  expect_bad(k, g, km + "/curve", "P-256", kf + ".curve");
  expect_bad(k, g, km + "/dhPublicKey/expiry", "2024-05-21T25:00:00Z", kf + ".dhPublicKey.expiry");
  expect_bad(k, g, km + "/dhPublicKey/expiry", 1716249600, kf + ".dhPublicKey.expiry");
}

TEST(HiRequest, ContentProblemsAreLeftToTheCheck) {
  // A reversed range and key material that does not decode are read as sent: check_hi_request
  // refuses them by name, and the HIU hears why in on-request (checks_test.cpp).
  const json g = json::parse(kHiRequest);
  json b = g;
  b["hiRequest"]["dateRange"]["from"] = "2025-01-01T00:00:00.000Z";
  b["hiRequest"]["keyMaterial"]["nonce"] = "not base64!";
  b["hiRequest"]["keyMaterial"]["dhPublicKey"]["keyValue"] = "c2hvcnQ=";
  const HiRequest h = parse_hi_request(b);
  EXPECT_GT(h.date_from, h.date_to);
  EXPECT_EQ(h.key_material.nonce, "not base64!");
  EXPECT_EQ(h.key_material.key_value, "c2hvcnQ=");
  expect_round_trip(MessageKind::kHiRequest, b);
}

// --- callbacks -------------------------------------------------------------------------------

TEST(OnGenerateToken, SuccessReadsTokenClaims) {
  const auto m = parse_inbound("/api/v3/hip/token/on-generate-token", on_generate_token());
  const auto& t = std::get<OnGenerateToken>(m.body);
  EXPECT_EQ(t.abha_address, "abc@sbx");
  EXPECT_EQ(t.response_request_id, "11111111-2222-4333-8444-555555555555");
  EXPECT_FALSE(t.error);
  ASSERT_TRUE(t.token_expiry);
  EXPECT_EQ(format_timestamp(*t.token_expiry), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(t.token_hip_id, "IN1410000232_1");
  EXPECT_EQ(t.token_abha_number, "91178386101731");
  expect_round_trip(MessageKind::kOnGenerateToken, on_generate_token());
}

TEST(OnGenerateToken, ErrorFormNormalisesCode) {
  const json b = json::parse(R"({"abhaAddress": "abc@sbx", "error": {"code": "ABDM-1207: ", "message": "Demographic details invalid"},
                                 "response": {"requestId": "11111111-2222-4333-8444-555555555555"}})");
  const auto t = parse_on_generate_token(b);
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error->code, "ABDM-1207");
  EXPECT_FALSE(t.link_token);
  EXPECT_EQ(to_json(t)["error"]["code"], "ABDM-1207");
  expect_round_trip(MessageKind::kOnGenerateToken, b);
}

TEST(OnGenerateToken, RequiredFields) {
  const json g = on_generate_token();
  const auto k = MessageKind::kOnGenerateToken;
  expect_missing(k, g, "/response", "response");
  expect_missing(k, g, "/response/requestId", "response.requestId");
  expect_missing(k, g, "/linkToken", "linkToken");
  expect_bad(k, g, "/response/requestId", "abc", "response.requestId");
  expect_bad(k, g, "/error", json::object({{"message", "x"}}), "error.code");
  // A token that is not a JWT is kept, just without claims.
  json opaque = g;
  opaque["linkToken"] = "opaque-token";
  EXPECT_FALSE(parse_on_generate_token(opaque).token_expiry);
}

TEST(OnCareContext, SuccessAndAlreadyLinked) {
  const auto m = parse_inbound("/api/v3/link/on_carecontext", json::parse(kOnCareContext));
  const auto& c = std::get<OnCareContext>(m.body);
  EXPECT_EQ(c.status, "Successfully Linked care context");
  EXPECT_FALSE(c.error);
  const json e = json::parse(R"({"error": {"code": "ABDM-1056", "message": "This care context has been already linked"},
                                 "response": {"requestId": "11111111-2222-4333-8444-555555555555"}})");
  EXPECT_EQ(parse_on_carecontext(e).error->code, "ABDM-1056");
  expect_missing(MessageKind::kOnCareContext, json::parse(kOnCareContext), "/response", "response");
  expect_round_trip(MessageKind::kOnCareContext, e);
}

TEST(ContextOnNotify, Parses) {
  const auto m = parse_inbound("/api/v3/links/context/on-notify", json::parse(kContextOnNotify));
  const auto& c = std::get<ContextOnNotify>(m.body);
  EXPECT_EQ(c.acknowledgement_status, "SUCCESS");
  EXPECT_EQ(c.response_request_id, "11111111-2222-4333-8444-555555555555");
  expect_missing(MessageKind::kContextOnNotify, json::parse(kContextOnNotify), "/response/requestId", "response.requestId");
  expect_round_trip(MessageKind::kContextOnNotify, json::parse(kContextOnNotify));
}

TEST(SmsOnNotify, UsesResp) {
  const auto m = parse_inbound("/api/v3/patients/sms/on-notify", json::parse(kSmsOnNotify));
  const auto& s = std::get<SmsOnNotify>(m.body);
  EXPECT_EQ(s.status, "SUCCESS");
  EXPECT_EQ(s.response_request_id, "11111111-2222-4333-8444-555555555555");
  json alt = json::parse(kSmsOnNotify);
  alt["response"] = alt["resp"];
  alt.erase("resp");
  EXPECT_EQ(parse_sms_on_notify(alt).response_request_id, "11111111-2222-4333-8444-555555555555");
  expect_missing(MessageKind::kSmsOnNotify, json::parse(kSmsOnNotify), "/resp", "resp");
  expect_round_trip(MessageKind::kSmsOnNotify, json::parse(kSmsOnNotify));
}

TEST(PatientStatusNotify, Parses) {
  const auto m = parse_inbound("/api/v3/patients/status/notify", json::parse(kPatientStatus));
  const auto& p = std::get<PatientStatusNotify>(m.body);
  EXPECT_EQ(p.status, "DELETED");
  EXPECT_EQ(p.abha_address, "hinapatel@sbx");
  const json g = json::parse(kPatientStatus);
  expect_missing(MessageKind::kPatientStatusNotify, g, "/notification/status", "notification.status");
  expect_missing(MessageKind::kPatientStatusNotify, g, "/notification/patient/id", "notification.patient.id");
  expect_bad(MessageKind::kPatientStatusNotify, g, "/notification/status", "SUSPENDED", "notification.status");
  expect_round_trip(MessageKind::kPatientStatusNotify, g);
}
