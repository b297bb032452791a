// Outbound bodies compared, as JSON, with the V3 examples of NHA "Sandbox Documentation (ABDM
// Milestone 2)" v2.8 and NHA's V3 Postman collection (as quoted in the project's protocol notes).
#include "core/abdm/outbound.hpp"

#include <gtest/gtest.h>

#include "core/util/error.hpp"

using namespace abdm::proto;
using nlohmann::json;

namespace {
const char* kReq = "499a5a4a-7dda-4f20-9b67-e24589627061";
const char* kTx = "03813343-ebc5-4c9f-89b6-6e9a75fd7c92";
TimePoint utc(const char* s) { return parse_timestamp(s, "t", TimestampMode::kStrictUtc); }

OutPatient hina() {
  return {"TMH-PUID-001", "Hina Patel", {{"OPD-2023-10-03", "OPD visit 03 Oct 2023", {"Prescription"}}}};
}

std::string field_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const abdm::Error& e) {
    return e.field();
  }
  ADD_FAILURE() << "no error";
  return "";
}
}  // namespace

TEST(Outbound, OnDiscoverMatchesExample) {
  const json expected = json::parse(R"({
    "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
    "patient": [
      { "referenceNumber": "TMH-PUID-001", "display": "Hina Patel",
        "careContexts": [ {"referenceNumber": "OPD-2023-10-03", "display": "OPD visit 03 Oct 2023"} ],
        "hiType": "Prescription", "count": 1 }
    ],
    "matchedBy": ["MR"],
    "response": { "requestId": "499a5a4a-7dda-4f20-9b67-e24589627061" }
  })");
  EXPECT_EQ(on_discover(kTx, kReq, hina(), {"MR"}), expected);
}

TEST(Outbound, OnDiscoverErrorMatchesExample) {
  EXPECT_EQ(on_discover_error(kTx, kReq, "ABDM-1010", "Patient not found"), json::parse(R"({
    "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
    "error": {"code": "ABDM-1010", "message": "Patient not found"},
    "response": {"requestId": "499a5a4a-7dda-4f20-9b67-e24589627061"}})"));
}

TEST(Outbound, GroupsPerHiTypeAndSplitsAtTwenty) {
  OutPatient p{"P1", "Hina Patel", {}};
  for (int i = 0; i < 45; ++i)
    p.care_contexts.push_back({"OPD-" + std::to_string(i), "Visit " + std::to_string(i), {"opconsultation"}});
  p.care_contexts.push_back({"LAB-1", "Lab 1", {"DIAGNOSTICREPORT", "Prescription"}});
  p.care_contexts.push_back({"LAB-1", "Lab 1", {"DiagnosticReport"}});  // duplicate reference, same type
  const json e = patient_entries(p);
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0]["hiType"], "OPConsultation");
  EXPECT_EQ(e[0]["count"], 20);
  EXPECT_EQ(e[1]["count"], 20);
  EXPECT_EQ(e[2]["count"], 5);
  EXPECT_EQ(e[2]["careContexts"][4]["referenceNumber"], "OPD-44");
  EXPECT_EQ(e[3]["hiType"], "Prescription");
  EXPECT_EQ(e[4]["hiType"], "DiagnosticReport");
  EXPECT_EQ(e[4]["count"], 1);
  std::size_t total = 0;
  for (const auto& entry : e) {
    EXPECT_EQ(entry["count"], entry["careContexts"].size());
    EXPECT_LE(entry["count"].get<int>(), 20);
    EXPECT_GE(entry["count"].get<int>(), 1);
    EXPECT_EQ(entry["referenceNumber"], "P1");
    total += entry["careContexts"].size();
  }
  EXPECT_EQ(total, 47u);
  EXPECT_EQ(patient_entries(p, 7).size(), 7u + 1 + 1);
}

TEST(Outbound, GroupingRefusesBadInput) {
  OutPatient none{"P1", "X", {}};
  EXPECT_EQ(field_of([&] { patient_entries(none); }), "patient.careContexts");
  OutPatient untyped{"P1", "X", {{"C1", "c", {}}}};
  EXPECT_EQ(field_of([&] { patient_entries(untyped); }), "patient.careContexts[0].hiTypes");
  OutPatient unknown{"P1", "X", {{"C1", "c", {"Xray"}}}};
  EXPECT_EQ(field_of([&] { patient_entries(unknown); }), "patient.careContexts[0].hiTypes");
  EXPECT_EQ(field_of([&] { on_discover(kTx, kReq, hina(), {}); }), "matched_by");
  EXPECT_EQ(field_of([&] { on_discover(kTx, "", hina(), {"MR"}); }), "request_id");
}

TEST(Outbound, OnInitMatchesExample) {
  const json expected = json::parse(R"({ "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
    "link": { "referenceNumber": "7c1e4bb2-58a4-4a53-8f0e-3c4d2b1a0f99", "authenticationType": "MEDIATE",
              "meta": { "communicationMedium": "MOBILE", "communicationHint": "98******32",
                        "communicationExpiry": "2026-01-01T10:15:00.000Z" } },
    "response": { "requestId": "499a5a4a-7dda-4f20-9b67-e24589627061" } })");
  EXPECT_EQ(on_init(kTx, kReq, "7c1e4bb2-58a4-4a53-8f0e-3c4d2b1a0f99", AuthenticationType::kMediate, "98******32",
                    utc("2026-01-01T10:15:00.000Z")),
            expected);
  const json direct = on_init(kTx, kReq, "ref", authentication_type_from("direct", "x"), "hint", utc("2026-01-01T10:15:00Z"));
  EXPECT_EQ(direct["link"]["authenticationType"], "DIRECT");
  EXPECT_EQ(field_of([] { authentication_type_from("MEDIATED", "abdm_hip.link_auth_type"); }), "abdm_hip.link_auth_type");
  EXPECT_EQ(field_of([&] { on_init(kTx, kReq, "ref", AuthenticationType::kMediate, "", TimePoint{}); }), "communication_hint");
  EXPECT_EQ(on_init_error(kTx, kReq, "ABDM-9999", "SMS failed"),
            json::parse(R"({"transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92", "error": {"code": "ABDM-9999", "message": "SMS failed"},
                            "response": {"requestId": "499a5a4a-7dda-4f20-9b67-e24589627061"}})"));
}

TEST(Outbound, OnConfirmMatchesExample) {
  EXPECT_EQ(on_confirm(kReq, hina()), json::parse(R"({
    "patient": [ { "referenceNumber": "TMH-PUID-001", "display": "Hina Patel",
                   "careContexts": [ {"referenceNumber": "OPD-2023-10-03", "display": "OPD visit 03 Oct 2023"} ],
                   "hiType": "Prescription", "count": 1 } ],
    "response": { "requestId": "499a5a4a-7dda-4f20-9b67-e24589627061" } })"));
  EXPECT_EQ(on_confirm_error(kReq, "ABDM-1035", "Incorrect OTP"), json::parse(R"({
    "error": {"code": "ABDM-1035", "message": "Incorrect OTP"},
    "response": {"requestId": "499a5a4a-7dda-4f20-9b67-e24589627061"}})"));
}

TEST(Outbound, ConsentOnNotifyMatchesExample) {
  EXPECT_EQ(consent_on_notify(kReq, "1876f659-bb20-4000-88dc-b45f97252901"), json::parse(R"({
    "acknowledgement": { "status": "OK", "consentId": "1876f659-bb20-4000-88dc-b45f97252901" },
    "response": { "requestId": "499a5a4a-7dda-4f20-9b67-e24589627061" } })"));
  const json e = consent_on_notify_error(kReq, "1876f659-bb20-4000-88dc-b45f97252901", "ABDM-1001", "x");
  EXPECT_EQ(e["acknowledgement"]["status"], "OK");
  EXPECT_EQ(e["error"]["code"], "ABDM-1001");
}

TEST(Outbound, HiOnRequestMatchesExample) {
  EXPECT_EQ(hi_on_request(kReq, kTx), json::parse(R"({
    "hiRequest": { "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92", "sessionStatus": "ACKNOWLEDGED" },
    "response": { "requestId": "499a5a4a-7dda-4f20-9b67-e24589627061" } })"));
  EXPECT_EQ(hi_on_request_error(kReq, kTx, "ABDM-1061", "Consent artefact expired"), json::parse(R"({
    "hiRequest": { "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92", "sessionStatus": "ERRORED" },
    "error": {"code": "ABDM-1061", "message": "Consent artefact expired"},
    "response": { "requestId": "499a5a4a-7dda-4f20-9b67-e24589627061" } })"));
}

TEST(Outbound, PatientStatusOnNotify) {
  EXPECT_EQ(patient_status_on_notify(kReq), json::parse(R"({"acknowledgement": {"status": "OK"},
    "response": {"requestId": "499a5a4a-7dda-4f20-9b67-e24589627061"}})"));
}

TEST(Outbound, GenerateTokenMatchesExample) {
  GenerateTokenInput in{"91-1783-8610-1731", "91178386101731@sbx", "Mayur Bapu Chaskar", "M", 1994};
  const json body = generate_token(in);
  EXPECT_EQ(body, json::parse(R"({ "abhaNumber": 91178386101731, "abhaAddress": "91178386101731@sbx",
    "name": "Mayur Bapu Chaskar", "gender": "M", "yearOfBirth": 1994 })"));
  EXPECT_TRUE(body["abhaNumber"].is_number_integer());
  EXPECT_NE(body.dump().find("\"abhaNumber\":91178386101731"), std::string::npos);
  GenerateTokenInput address_only{std::nullopt, "abc@sbx", "A", "F", 1990};
  EXPECT_FALSE(generate_token(address_only).contains("abhaNumber"));
  GenerateTokenInput neither{std::nullopt, std::nullopt, "A", "F", 1990};
  EXPECT_EQ(field_of([&] { generate_token(neither); }), "abhaNumber");
  GenerateTokenInput bad_gender{std::nullopt, "a@sbx", "A", "U", 1990};
  EXPECT_EQ(field_of([&] { generate_token(bad_gender); }), "gender");
  GenerateTokenInput bad_number{"1234", std::nullopt, "A", "F", 1990};
  EXPECT_EQ(field_of([&] { generate_token(bad_number); }), "abhaNumber");
}

TEST(Outbound, LinkCareContextMatchesExample) {
  OutPatient p{"TMH-PUID-001", "Hina Patel",
               {{"OPD-2024-05-20", "OPD visit 20 May 2024", {"Prescription"}},
                {"LAB-2024-05-20", "Lab tests 20 May 2024", {"DiagnosticReport"}},
                {"OPD-2024-06-02", "OPD visit 02 Jun 2024", {"PRESCRIPTION"}}}};
  EXPECT_EQ(link_carecontext("91-1783-8610-1731", "91178386101731@sbx", p), json::parse(R"({
    "abhaNumber": "91178386101731", "abhaAddress": "91178386101731@sbx",
    "patient": [
      { "referenceNumber": "TMH-PUID-001", "display": "Hina Patel",
        "careContexts": [ {"referenceNumber": "OPD-2024-05-20", "display": "OPD visit 20 May 2024"},
                          {"referenceNumber": "OPD-2024-06-02", "display": "OPD visit 02 Jun 2024"} ],
        "hiType": "Prescription", "count": 2 },
      { "referenceNumber": "TMH-PUID-001", "display": "Hina Patel",
        "careContexts": [ {"referenceNumber": "LAB-2024-05-20", "display": "Lab tests 20 May 2024"} ],
        "hiType": "DiagnosticReport", "count": 1 } ] })"));
  const json no_number = link_carecontext(std::nullopt, "abc@sbx", p);
  EXPECT_FALSE(no_number.contains("abhaNumber"));
  EXPECT_TRUE(no_number["patient"][0]["hiType"].is_string());
}

TEST(Outbound, ContextNotifyMatchesExample) {
  EXPECT_EQ(context_notify("abc@sbx", "TMH-PUID-001", "OPD-2024-05-20", {"DIAGNOSTICREPORT", "DischargeSummary"},
                           utc("2026-01-01T10:00:00.000Z"), "IN1410000232_1"),
            json::parse(R"({ "notification": { "patient": {"id": "abc@sbx"},
              "careContext": {"patientReference": "TMH-PUID-001", "careContextReference": "OPD-2024-05-20"},
              "hiTypes": ["DiagnosticReport", "DischargeSummary"],
              "date": "2026-01-01T10:00:00.000Z",
              "hip": {"id": "IN1410000232_1"} } })"));
  EXPECT_EQ(field_of([] { context_notify("a@sbx", "P", "C", {}, TimePoint{}, "H"); }), "hiTypes");
}

TEST(Outbound, SmsNotify2PhoneFormats) {
  EXPECT_EQ(sms_notify2("+91-9876543210", "IN1410000232_1", "ABC Hospital"), json::parse(R"({
    "notification": { "phoneNo": "9876543210", "hip": {"name": "ABC Hospital", "id": "IN1410000232_1"} } })"));
  EXPECT_EQ(sms_notify2("9876543210", "H", std::nullopt, PhoneFormat::kPlus91Dash)["notification"]["phoneNo"],
            "+91-9876543210");
  EXPECT_EQ(sms_notify2("9876543210", "H", std::nullopt, phone_format_from("91", "f"))["notification"]["phoneNo"],
            "919876543210");
  EXPECT_FALSE(sms_notify2("9876543210", "H", std::nullopt)["notification"]["hip"].contains("name"));
  const json with_ids = sms_notify2("9876543210", "H", "X", PhoneFormat::kTenDigits, kReq, utc("2026-01-01T10:00:00Z"));
  EXPECT_EQ(with_ids["requestId"], kReq);
  EXPECT_EQ(with_ids["timestamp"], "2026-01-01T10:00:00.000Z");
  EXPECT_EQ(field_of([] { sms_notify2("98765", "H", std::nullopt); }), "phoneNo");
  EXPECT_EQ(field_of([] { phone_format_from("+91", "abdm_hip.sms_phone_format"); }), "abdm_hip.sms_phone_format");
}

TEST(Outbound, HiNotifyShape) {
  const json n = hi_notify("1876f659-bb20-4000-88dc-b45f97252901", kTx, utc("2024-05-20T11:40:00.000Z"), "HIP_700", true,
                           {{"OPD-2023-10-03", true, ""}, {"LAB-1", false, "Bundle failed validation"}});
  EXPECT_EQ(n, json::parse(R"({ "notification": {
    "consentId": "1876f659-bb20-4000-88dc-b45f97252901",
    "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
    "doneAt": "2024-05-20T11:40:00.000Z",
    "notifier": { "type": "HIP", "id": "HIP_700" },
    "statusNotification": {
      "sessionStatus": "TRANSFERRED",
      "hipId": "HIP_700",
      "statusResponses": [ { "careContextReference": "OPD-2023-10-03", "hiStatus": "DELIVERED", "description": "Delivered" },
                           { "careContextReference": "LAB-1", "hiStatus": "ERRORED", "description": "Bundle failed validation" } ] } } })"));
  EXPECT_EQ(hi_notify("c", "t", TimePoint{}, "H", false, {})["notification"]["statusNotification"]["sessionStatus"], "FAILED");
}

TEST(Outbound, DataPushShape) {
  const json p = data_push(kTx, 1, 1, {{"Y29udGVudA==", "application/fhir+json", "bWQ1", "OPD-2023-10-03"}},
                           {utc("2024-05-22T00:00:00.000Z"), "MIIBMT...", "lmXgblZwotx+DfBgKJF0lZXtAXgBEYr5khh79Zytr2Y="});
  EXPECT_EQ(p, json::parse(R"({
    "pageNumber": 1, "pageCount": 1,
    "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
    "entries": [ { "content": "Y29udGVudA==", "media": "application/fhir+json", "checksum": "bWQ1",
                   "careContextReference": "OPD-2023-10-03" } ],
    "keyMaterial": { "cryptoAlg": "ECDH", "curve": "Curve25519",
      "dhPublicKey": { "expiry": "2024-05-22T00:00:00.000Z", "parameters": "Curve25519/32byte random key", "keyValue": "MIIBMT..." },
      "nonce": "lmXgblZwotx+DfBgKJF0lZXtAXgBEYr5khh79Zytr2Y=" } })"));
  EXPECT_EQ(field_of([] { data_push("t", 2, 1, {}, {TimePoint{}, "k", "n"}); }), "page_number");
}

TEST(Outbound, EndpointPathsAndHeaders) {
  EXPECT_EQ(outbound_endpoint(OutboundKind::kOnDiscover).path, "/user-initiated-linking/v3/patient/care-context/on-discover");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kOnInit).path, "/user-initiated-linking/v3/link/care-context/on-init");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kOnConfirm).path, "/user-initiated-linking/v3/link/care-context/on-confirm");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kConsentOnNotify).path, "/consent/v3/request/hip/on-notify");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kHiOnRequest).path, "/data-flow/v3/health-information/hip/on-request");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kHiNotify).path, "/data-flow/v3/health-information/notify");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kGenerateToken).path, "/v3/token/generate-token");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kLinkCareContext).path, "/hip/v3/link/carecontext");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kContextNotify).path, "/hip/v3/link/context/notify");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kSmsNotify2).path, "/hip/v3/link/patient/links/sms/notify2");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kSession).path, "/gateway/v3/sessions");
  EXPECT_EQ(outbound_endpoint(OutboundKind::kCerts).method, "GET");
  EXPECT_EQ(find_outbound_endpoint("link_carecontext")->kind, OutboundKind::kLinkCareContext);
  EXPECT_EQ(find_outbound_endpoint("nope"), nullptr);
}

TEST(Outbound, PatientFromJson) {
  const OutPatient p = out_patient_from_json(json::parse(R"({"referenceNumber": "P1", "display": "Hina",
    "careContexts": [{"referenceNumber": "C1", "display": "Visit", "hiTypes": ["Prescription", "OPConsultation"]},
                     {"referenceNumber": "C2", "display": "Lab", "hiType": "DiagnosticReport"}]})"));
  ASSERT_EQ(p.care_contexts.size(), 2u);
  EXPECT_EQ(p.care_contexts[0].hi_types.size(), 2u);
  EXPECT_EQ(p.care_contexts[1].hi_types, std::vector<std::string>{"DiagnosticReport"});
  EXPECT_EQ(patient_entries(p).size(), 3u);
  EXPECT_EQ(field_of([] { out_patient_from_json(json::parse(R"({"referenceNumber": "P1", "display": "H",
                            "careContexts": [{"referenceNumber": "C1"}]})")); }),
            "careContexts[0].display");
}
