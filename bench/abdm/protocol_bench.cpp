// Cost of the pure-C++ part of receive(): triage (route + headers + parse + normalise), patient
// matching over the candidates the SQL layer hands in, outbound body building, OTP hashing.
#include <benchmark/benchmark.h>

#include "core/abdm/matching.hpp"
#include "core/abdm/otp.hpp"
#include "core/abdm/outbound.hpp"
#include "core/abdm/receive.hpp"

using namespace abdm::proto;
using nlohmann::json;

namespace {
const TimePoint kNow = parse_timestamp("2026-01-01T10:00:00.000Z", "now", TimestampMode::kStrictUtc);
const json kHeaders = {{"REQUEST-ID", "499a5a4a-7dda-4f20-9b67-e24589627061"},
                       {"TIMESTAMP", "2026-01-01T10:00:00.000Z"},
                       {"X-HIP-ID", "IN1410000232_1"}};

const json kDiscover = json::parse(R"({"transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
  "patient": {"id": "hinapatel@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "+91-9800083232"}, {"type": "ABHA_NUMBER", "value": "91-1783-8610-1731"}],
    "unverifiedIdentifiers": [{"type": "MR", "value": "TMH-PUID-001"}],
    "name": "Hina Patel", "gender": "F", "yearOfBirth": 1990}})");

const json kConsent = json::parse(R"({"notification": {"status": "GRANTED", "consentId": "1876f659-bb20-4000-88dc-b45f97252901",
  "consentDetail": {"schemaVersion": "", "consentId": "1876f659-bb20-4000-88dc-b45f97252901", "createdAt": "2024-05-20T11:29:00.000Z",
    "patient": {"id": "hinapatel79@sbx"},
    "careContexts": [{"patientReference": "TMH-PUID-001", "careContextReference": "OPD-2023-10-03"}],
    "purpose": {"text": "Care Management", "code": "CAREMGT", "refUri": "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse"},
    "hip": {"id": "HIP_700", "name": "My Hospital"}, "consentManager": {"id": "sbx"},
    "hiTypes": ["OPConsultation", "Prescription"],
    "permission": {"accessMode": "VIEW", "dateRange": {"from": "2020-11-25T12:30:29.592Z", "to": "2024-04-18T12:30:29.592Z"},
      "dataEraseAt": "2025-12-20T12:30:29.592Z", "frequency": {"unit": "MONTH", "value": 12, "repeats": 12}}},
  "signature": "c2lnbmF0dXJl", "grantAcknowledgement": false}})");

void BM_TriageDiscover(benchmark::State& state) {
  for (auto _ : state) {
    Triage t = triage_inbound("/api/v3/hip/patient/care-context/discover", kHeaders, kDiscover, kNow);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_TriageDiscover);

void BM_TriageConsentNotify(benchmark::State& state) {
  for (auto _ : state) {
    Triage t = triage_inbound("/api/v3/consent/request/hip/notify", kHeaders, kConsent, kNow);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_TriageConsentNotify);

void BM_TriageConsentNotifyText(benchmark::State& state) {
  const std::string text = kConsent.dump();
  for (auto _ : state) {
    Triage t = triage_inbound_text("/api/v3/consent/request/hip/notify", kHeaders, text, kNow);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_TriageConsentNotifyText);

// Candidates sharing the query's mobile (the worst realistic case: a family or clinic phone).
void BM_MatchDemographic(benchmark::State& state) {
  std::vector<Candidate> cs;
  for (int i = 0; i < state.range(0); ++i)
    cs.push_back({"P" + std::to_string(i), i == 7 ? "Hina Patel" : "Person Number " + std::to_string(i), "F", 1988,
                  "+91 98000 83232", "", "", ""});
  MatchQuery q = match_query(parse_discover(kDiscover));
  q.abha_number.reset();
  q.abha_address = "nobody@sbx";
  for (auto _ : state) {
    MatchResult r = match_patient(q, cs);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MatchDemographic)->Arg(1)->Arg(10)->Arg(100);

void BM_OnDiscover100CareContexts(benchmark::State& state) {
  OutPatient p{"TMH-PUID-001", "Hina Patel", {}};
  const char* types[] = {"OPConsultation", "Prescription", "DiagnosticReport"};
  for (int i = 0; i < 100; ++i) p.care_contexts.push_back({"CC-" + std::to_string(i), "Visit " + std::to_string(i), {types[i % 3]}});
  for (auto _ : state) {
    json j = on_discover("03813343-ebc5-4c9f-89b6-6e9a75fd7c92", "499a5a4a-7dda-4f20-9b67-e24589627061", p, {"MOBILE"});
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_OnDiscover100CareContexts);

void BM_GenerateOtp(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(generate_otp());
}
BENCHMARK(BM_GenerateOtp);

void BM_HashOtp(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(hash_otp("123456"));
}
BENCHMARK(BM_HashOtp)->Unit(benchmark::kMicrosecond);

void BM_VerifyOtp(benchmark::State& state) {
  const std::string h = hash_otp("123456");
  for (auto _ : state) benchmark::DoNotOptimize(verify_otp("123456", h));
}
BENCHMARK(BM_VerifyOtp)->Unit(benchmark::kMicrosecond);
}  // namespace
