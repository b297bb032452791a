// FHIR record input (core/fhir: build_document, behind abdm_hip.fhir_document(hi_type, record)),
// and the bundle checker behind abdm_hip.fhir_check(bundle).
// Input: "<hiType>\n<record JSON>" (the JSON text is also given to check() as a bundle).
// Asserts: build_document returns or refuses with abdm::Error naming the field, never XX000 (a
// built bundle failing its own check is the builder's bug); what it builds is deterministic,
// passes check() without errors, is filed under the hiType asked for and is storable as jsonb;
// check() never throws, whatever the JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/fhir/fhir.hpp"
#include "fuzz_support.hpp"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string hi_type(in.substr(0, nl));
  // fhir_document takes jsonb: only JSON reaches it.
  const json record = json::parse(in.substr(nl + 1), nullptr, false);
  if (record.is_discarded()) return 0;

  json bundle;
  if (abdm::fuzz::returns_or_refuses("build_document", [&] { bundle = abdm::fhir::build_document(hi_type, record); })) {
    abdm::fuzz::check_storable(bundle, "bundle");
    FUZZ_ASSERT(!abdm::fhir::has_errors(abdm::fhir::check(bundle)), "a built bundle passes check()");
    FUZZ_ASSERT(abdm::fhir::hi_type_of(bundle) == hi_type, "the bundle is of the hiType asked for");
    FUZZ_ASSERT(abdm::fhir::build_document(hi_type, record) == bundle, "build_document is deterministic");
  }

  try {
    for (const abdm::fhir::Issue& i : abdm::fhir::check(record))
      FUZZ_ASSERT((i.severity == "error" || i.severity == "warning") && !i.message.empty(), "an issue says what");
  } catch (const std::exception& e) {
    abdm::fuzz::fail(std::string("check() threw: ") + e.what());
  }
  return 0;
}
