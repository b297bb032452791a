// Invoice → NRCES InvoiceRecord (IG 6.x): type.text "Invoice Record", one Invoice entry, ChargeItems,
// price components from ndhm-price-components and exact totals.
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

TEST(Invoice, CompositionTypeAndSection) {
  json b = build_document("Invoice", record("Invoice"));
  const json& c = b["entry"][0]["resource"];
  EXPECT_EQ(c["type"], json::parse(R"({"text":"Invoice Record"})"));
  ASSERT_EQ(c["section"].size(), 1u);
  EXPECT_FALSE(c["section"][0].contains("code"));
  ASSERT_EQ(c["section"][0]["entry"].size(), 1u);
  EXPECT_EQ(c["section"][0]["entry"][0]["type"], "Invoice");
}

TEST(Invoice, LinesAndTotals) {
  json b = build_document("Invoice", record("Invoice"));
  auto inv = resources(b, "Invoice");
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_EQ(inv[0]["identifier"][0]["value"], "INV/2024/000512");
  EXPECT_EQ(inv[0]["type"], json::parse(R"({"coding":[{"system":"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes","code":"01","display":"Pharmacy"}]})"));
  ASSERT_EQ(inv[0]["lineItem"].size(), 3u);
  // line 2: rate 120, MRP 150, discount 10, CGST 8.4, SGST 8.4
  const json& pcs = inv[0]["lineItem"][1]["priceComponent"];
  ASSERT_EQ(pcs.size(), 5u);
  EXPECT_EQ(pcs[0], json::parse(R"({"type":"base","code":{"coding":[{"system":"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-price-components","code":"01","display":"Rate"}]},"amount":{"value":120.0,"currency":"INR"}})"));
  EXPECT_EQ(pcs[1]["type"], "informational");
  EXPECT_EQ(pcs[2]["type"], "discount");
  EXPECT_EQ(pcs[3]["code"]["coding"][0]["display"], "CGST");
  EXPECT_EQ(pcs[4]["amount"]["value"], 8.4);
  // net = 500 + (120 - 10) + 90.5 = 700.5; tax = 8.4 + 8.4 + 2.7 + 2.7 = 22.2
  EXPECT_EQ(inv[0]["totalNet"], json::parse(R"({"value":700.5,"currency":"INR"})"));
  EXPECT_EQ(inv[0]["totalGross"], json::parse(R"({"value":722.7,"currency":"INR"})"));
  auto charges = resources(b, "ChargeItem");
  ASSERT_EQ(charges.size(), 3u);
  EXPECT_EQ(charges[1]["code"]["coding"][0]["display"], "Medicines");
  EXPECT_EQ(charges[1]["quantity"], json::parse(R"({"value":10.0,"unit":"Tablet"})"));
  EXPECT_EQ(inv[0]["lineItem"][1]["chargeItemReference"]["reference"], "urn:uuid:" + charges[1]["id"].get<std::string>());
}

TEST(Invoice, Errors) {
  json r = record("Invoice");
  r["invoice"]["type"] = "05";
  EXPECT_EQ(error_of([&] { build_document("Invoice", r); }).rfind("record.invoice.type: must be an ndhm-invoice-types code", 0), 0u);
  r = record("Invoice");
  r["invoice"]["line_items"][1]["category"] = "42";
  EXPECT_EQ(error_of([&] { build_document("Invoice", r); }).rfind("record.invoice.line_items[1].category: must be an ndhm-billing-codes code", 0), 0u);
  r = record("Invoice");
  r["invoice"]["line_items"][1]["cgst"] = 8.405;
  EXPECT_EQ(error_of([&] { build_document("Invoice", r); }), "record.invoice.line_items[1].cgst: must have at most two decimals");
  r = record("Invoice");
  r["invoice"]["line_items"][1]["discount"] = 500;
  EXPECT_EQ(error_of([&] { build_document("Invoice", r); }), "record.invoice.line_items[1].discount: is larger than rate");
  r = record("Invoice");
  r["invoice"]["line_items"] = json::array();
  EXPECT_EQ(error_of([&] { build_document("Invoice", r); }), "record.invoice.line_items: required (Invoice.lineItem 1..*)");
  r = record("Invoice");
  r["invoice"]["line_items"][0]["quantity"] = "1";
  EXPECT_EQ(error_of([&] { build_document("Invoice", r); }), "record.invoice.line_items[0].quantity: must be a number, not a string");
  r = record("Invoice");
  r["invoice"]["currency"] = "rupees";
  EXPECT_EQ(error_of([&] { build_document("Invoice", r); }), "record.invoice.currency: must be an ISO 4217 code such as INR");
}

}  // namespace
}  // namespace abdm::fhir::testing
