// Inputs that break fhir_record_fuzz's invariants, kept as tests so they stay fixed (the
// sanitizer stage of the test command runs them under UBSan, where the bug was an abort).
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

std::string refusal_field(const json& r) {
  try {
    build_document("Invoice", r);
  } catch (const abdm::Error& e) {
    EXPECT_NE(e.sqlstate(), "XX000") << e.what();
    return e.field();
  }
  return "(built)";
}

// An invoice rate of 1e300 rupees passed check_money (finite, >= 0, two decimals) and its paise
// were converted to long long out of range: undefined behaviour. Amounts are now at most 1e12
// rupees, and the totals over any number of lines are checked.
TEST(FuzzRegression, InvoiceAmountFarOutOfRange) {
  json r = record("Invoice", true);
  r["invoice"]["line_items"][0]["rate"] = 1e300;
  EXPECT_EQ(refusal_field(r), "record.invoice.line_items[0].rate");
  r["invoice"]["line_items"][0]["rate"] = 1e12;
  EXPECT_EQ(refusal_field(r), "(built)");
  r["invoice"]["line_items"][0]["mrp"] = 1e13;
  EXPECT_EQ(refusal_field(r), "record.invoice.line_items[0].mrp");
}

}  // namespace
}  // namespace abdm::fhir::testing
