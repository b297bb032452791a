// Bundles built per second: the complete OPConsultation example record, and a DischargeSummary
// whose attachment makes the record about 1 MB (a scanned discharge summary PDF). Also check() alone.
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

#include "core/fhir/fhir.hpp"

namespace {

// bench/fhir/fhir_bench.cpp → test/data/fhir/records/ (the benchmark target has no data-dir define).
nlohmann::json load(const std::string& name) {
  std::string here = __FILE__;
  std::string root = here.substr(0, here.rfind("bench/fhir/"));
  std::ifstream in(root + "test/data/fhir/records/" + name);
  return nlohmann::json::parse(in);
}

// The complete DischargeSummary with its PDF attachment padded to ~1 MB of base64.
nlohmann::json one_megabyte_discharge() {
  nlohmann::json r = load("DischargeSummary.json");
  std::string data = r["attachments"][0]["data"];
  // The PDF's base64 + "QUJD" blocks (base64 of "ABC"): still valid base64 starting with %PDF-.
  while (data.size() < 1024 * 1024) data += "QUJD";
  r["attachments"][0]["data"] = data;
  return r;
}

void BM_BuildOpConsultRich(benchmark::State& state) {
  nlohmann::json r = load("OPConsultation.json");
  for (auto _ : state) benchmark::DoNotOptimize(abdm::fhir::build_document("OPConsultation", r));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildOpConsultRich);

void BM_BuildDischargeSummary1MB(benchmark::State& state) {
  nlohmann::json r = one_megabyte_discharge();
  for (auto _ : state) benchmark::DoNotOptimize(abdm::fhir::build_document("DischargeSummary", r));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(r.dump().size()));
}
BENCHMARK(BM_BuildDischargeSummary1MB);

void BM_CheckOpConsultRich(benchmark::State& state) {
  nlohmann::json b = abdm::fhir::build_document("OPConsultation", load("OPConsultation.json"));
  for (auto _ : state) benchmark::DoNotOptimize(abdm::fhir::check(b));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckOpConsultRich);

}  // namespace
