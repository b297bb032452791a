// The building blocks: name-based UUIDs, FHIR primitive formats, the record reader.
#include "core/fhir/record_reader.hpp"
#include "core/fhir/uuid.hpp"
#include "core/fhir/values.hpp"
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

TEST(Uuid, Version5MatchesRfc4122Vectors) {
  // Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org"), the RFC 4122 reference construction.
  EXPECT_EQ(uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  EXPECT_EQ(uuid_v5(kUuidNamespaceUrl, "https://nrces.in/ndhm/fhir/r4"), "fb22815e-a388-583f-b39c-c23eabb32d56");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Uuid, Recognises) {
  EXPECT_TRUE(is_uuid("886313e1-3b8a-5372-9b90-0c9aee199e5d"));
  EXPECT_TRUE(is_uuid("886313E1-3B8A-5372-9B90-0C9AEE199E5D"));
  EXPECT_FALSE(is_uuid("886313e1-3b8a-5372-9b90-0c9aee199e5"));
  EXPECT_FALSE(is_uuid("886313e1x3b8a-5372-9b90-0c9aee199e5d"));
  EXPECT_FALSE(is_uuid("g86313e1-3b8a-5372-9b90-0c9aee199e5d"));
}

TEST(Values, Dates) {
  EXPECT_EQ(check_date("2024", "d"), "2024");
  EXPECT_EQ(check_date("2024-02", "d"), "2024-02");
  EXPECT_EQ(check_date("2024-02-29", "d"), "2024-02-29");
  EXPECT_NE(error_of([] { check_date("2023-02-29", "record.patient.birth_date"); }).find("record.patient.birth_date"), std::string::npos);
  EXPECT_NE(error_of([] { check_date("2024-13-01", "d"); }), "");
  EXPECT_NE(error_of([] { check_date("24-01-01", "d"); }), "");
  EXPECT_EQ(check_date_time("2024-03-14T10:35:00+05:30", "d"), "2024-03-14T10:35:00+05:30");
  EXPECT_EQ(check_date_time("2024-03-14T10:35:00.123Z", "d"), "2024-03-14T10:35:00.123Z");
  EXPECT_EQ(check_date_time("2024-03-14", "d"), "2024-03-14");
  EXPECT_NE(error_of([] { check_date_time("2024-03-14T10:35+05:30", "d"); }), "");  // seconds required
  EXPECT_NE(error_of([] { check_date_time("2024-03-14T10:35:00", "d"); }), "");     // zone required
  EXPECT_NE(error_of([] { check_date_time("2024-03-14 10:35:00+05:30", "d"); }), "");
  EXPECT_NE(error_of([] { check_instant("2024-03-14", "record.document.date"); }).find("record.document.date: "), std::string::npos);
}

TEST(Values, YearZeroIsNotADate) {
  // The R4 JSON schema's date patterns start at 0001; found by probing fhir_document().
  EXPECT_EQ(error_of([] { check_date("0000-01-01", "record.patient.birth_date"); }),
            "record.patient.birth_date: must be a date YYYY, YYYY-MM or YYYY-MM-DD");
  EXPECT_NE(error_of([] { check_date("0000", "d"); }), "");
  EXPECT_NE(error_of([] { check_date_time("0000-03-14T10:35:00Z", "d"); }), "");
  EXPECT_NE(error_of([] { check_instant("0000-03-14T10:35:00Z", "d"); }), "");
  EXPECT_EQ(check_date("0001-01-01", "d"), "0001-01-01");
}

TEST(Values, StringsFollowFhirsRules) {
  EXPECT_EQ(string_at(json("Ravi\tKumar\r\n"), "p"), "Ravi\tKumar\r\n");
  EXPECT_EQ(string_at(json(" Ravi "), "p"), " Ravi ");
  EXPECT_EQ(error_of([] { string_at(json("   "), "record.patient.name"); }),
            "record.patient.name: must not be blank (only whitespace)");
  EXPECT_EQ(error_of([] { string_at(json(" \t\n"), "p"); }), "p: must not be blank (only whitespace)");
  EXPECT_EQ(error_of([] { string_at(json("Ra\x01vi"), "record.patient.name"); }),
            "record.patient.name: holds control character U+0001 at byte 2 (FHIR strings may not)");
  EXPECT_NE(error_of([] { string_at(json(std::string("a\0b", 3)), "p"); }), "");
  // 1024*1024 characters is the limit, counted as characters, not bytes.
  EXPECT_NO_THROW(string_at(json(std::string(kMaxStringChars, 'a')), "p"));
  EXPECT_EQ(error_of([] { string_at(json(std::string(kMaxStringChars + 1, 'a')), "record.patient.name"); }),
            "record.patient.name: is longer than FHIR's string limit of 1024*1024 characters");
  std::string devanagari;
  for (size_t i = 0; i < kMaxStringChars; ++i) devanagari += "\u0930";  // 3 bytes each
  EXPECT_NO_THROW(string_at(json(devanagari), "p"));
  EXPECT_NE(error_of([] { string_at(json(std::string(5 * 1024 * 1024, 'R')), "p"); }), "");
}

TEST(Values, Base64) {
  check_base64("QUJD", "x");
  check_base64("QUI=", "x");
  check_base64("QQ==", "x");
  EXPECT_NE(error_of([] { check_base64("QUJ", "record.attachments[0].data"); }).find("record.attachments[0].data"), std::string::npos);
  EXPECT_NE(error_of([] { check_base64("QU=D", "x"); }), "");
  EXPECT_NE(error_of([] { check_base64("Q===", "x"); }), "");
  EXPECT_NE(error_of([] { check_base64("QU JD", "x"); }), "");
  EXPECT_NE(error_of([] { check_base64("", "x"); }), "");
  EXPECT_TRUE(base64_starts_with("JVBERi0xLjQK", "%PDF-"));
  EXPECT_FALSE(base64_starts_with("QUJD", "%PDF-"));
}

TEST(Values, Money) {
  EXPECT_EQ(check_money(8.4, "m"), 840);
  EXPECT_EQ(check_money(0, "m"), 0);
  EXPECT_EQ(check_money(90.5, "m"), 9050);
  EXPECT_NE(error_of([] { check_money(1.005, "m"); }), "");
  EXPECT_NE(error_of([] { check_money(-1, "m"); }), "");
}

// Found by the generated-records property (test/fhir/validate): a code with padding and a
// coding system with a space inside were put in the bundle, which the FHIR R4 schema refuses.
TEST(Values, CodesAndUris) {
  EXPECT_EQ(check_code("  38341003 ", "c"), "38341003");  // a char(n) column's padding
  EXPECT_EQ(check_code("1-1-1 for 3 days", "c"), "1-1-1 for 3 days");
  EXPECT_EQ(error_of([] { check_code("a  b", "record.x.code"); }), "record.x.code: a code holds single spaces only (FHIR code)");
  EXPECT_EQ(error_of([] { check_code(" \t ", "record.x.code"); }), "record.x.code: must not be blank");
  EXPECT_EQ(check_uri(" http://snomed.info/sct ", "s"), "http://snomed.info/sct");
  EXPECT_EQ(error_of([] { check_uri("2024-05-20 10:40:00", "record.x.system"); }),
            "record.x.system: must be a URI without spaces (FHIR uri)");
}

TEST(Reader, UnknownFieldIsNamedBeforeAnythingElse) {
  json v = {{"nmae", "x"}};
  EXPECT_EQ(error_of([&] { Fields f(v, "record.patient", {"name"}); }), "record.patient.nmae: unknown field");
}

TEST(Reader, RequiredAndTypes) {
  json v = {{"name", 5}, {"list", "x"}, {"nothing", nullptr}};
  Fields f(v, "record.patient", {"name", "ref", "list", "nothing"});
  EXPECT_EQ(error_of([&] { f.str("ref"); }), "record.patient.ref: required");
  EXPECT_EQ(error_of([&] { f.str("name"); }), "record.patient.name: must be a string, not a number");
  EXPECT_EQ(error_of([&] { f.values("list"); }), "record.patient.list: must be an array, not a string");
  EXPECT_FALSE(f.opt_str("nothing").has_value());  // null is absent
  try {
    f.str("ref");
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "23502");
    EXPECT_EQ(e.field(), "record.patient.ref");
  }
}

}  // namespace
}  // namespace abdm::fhir::testing
