// HealthDocumentRecord → NRCES HealthDocumentRecord: type and single section 419891008 "Record artifact".
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

TEST(HealthDocumentRecord, CompositionTypeAndSection) {
  json b = build_document("HealthDocumentRecord", record("HealthDocumentRecord"));
  const json& c = b["entry"][0]["resource"];
  const json code = json::parse(R"({"coding":[{"system":"http://snomed.info/sct","code":"419891008","display":"Record artifact"}]})");
  EXPECT_EQ(c["type"], code);
  ASSERT_EQ(c["section"].size(), 1u);
  EXPECT_EQ(c["section"][0]["code"], code);
  EXPECT_EQ(c["section"][0]["entry"][0]["type"], "DocumentReference");
  auto docs = resources(b, "DocumentReference");
  ASSERT_EQ(docs.size(), 1u);
  const json& att = docs[0]["content"][0]["attachment"];
  EXPECT_EQ(att["contentType"], "application/pdf");
  EXPECT_EQ(att["title"], "Echocardiography report (outside lab)");
  EXPECT_EQ(att["creation"], "2024-01-18");
  EXPECT_EQ(att["data"], record("HealthDocumentRecord")["attachments"][0]["data"]);
  EXPECT_EQ(docs[0]["date"], "2024-01-20T09:30:00+05:30");
  EXPECT_EQ(docs[0]["status"], "current");
}

TEST(HealthDocumentRecord, Errors) {
  json r = record("HealthDocumentRecord");
  r.erase("attachments");
  EXPECT_EQ(error_of([&] { build_document("HealthDocumentRecord", r); }), "record.attachments: required (HealthDocumentRecord: DocumentReference 1..*)");
  r = record("HealthDocumentRecord");
  r["attachments"][0].erase("content_type");
  EXPECT_EQ(error_of([&] { build_document("HealthDocumentRecord", r); }), "record.attachments[0].content_type: required");
  r = record("HealthDocumentRecord");
  r["attachments"][0]["content_type"] = "pdf";
  EXPECT_EQ(error_of([&] { build_document("HealthDocumentRecord", r); }), "record.attachments[0].content_type: must be a MIME type such as application/pdf");
  r = record("HealthDocumentRecord");
  r["attachments"] = json::object();
  EXPECT_EQ(error_of([&] { build_document("HealthDocumentRecord", r); }), "record.attachments: must be an array, not an object");
}

}  // namespace
}  // namespace abdm::fhir::testing
