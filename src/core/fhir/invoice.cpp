// Invoice + ChargeItems per the NRCES 6.x profiles Invoice and ChargeItem (InvoiceRecord):
// Invoice.identifier.value, type (ValueSet ndhm-invoice-types), date, lineItem 1..* each with a
// chargeItem and priceComponents coded from CodeSystem ndhm-price-components, totalNet and
// totalGross; ChargeItem.code from CodeSystem ndhm-billing-codes, quantity and product[x] 1..1.
// Amounts are per line (all units), in paise internally so totals are exact.
#include <map>
#include <regex>

#include "core/fhir/concept.hpp"
#include "core/fhir/resources.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

namespace {

// CodeSystem ndhm-billing-codes (IG 6.x); the invoice-type ValueSet takes 00, 01, 02, 03 and 99.
const std::map<std::string, std::string>& billing_codes() {
  static const std::map<std::string, std::string> m{{"00", "Consultation"}, {"01", "Pharmacy"}, {"02", "IPD"}, {"03", "OPD"},
                                                    {"04", "Pathology"}, {"05", "Medicines"}, {"06", "Nursing Charges"},
                                                    {"07", "Handling Charges"}, {"08", "Delivery Charges"}, {"99", "Others"}};
  return m;
}

json billing(const std::string& code, const std::string& path, bool invoice_type) {
  auto it = billing_codes().find(code);
  bool ok = it != billing_codes().end() && (!invoice_type || code == "00" || code == "01" || code == "02" || code == "03" || code == "99");
  if (!ok) {
    throw Error(sqlstate::kInvalidParameter, path,
                invoice_type ? "must be an ndhm-invoice-types code: 00 Consultation, 01 Pharmacy, 02 IPD, 03 OPD, 99 Others"
                             : "must be an ndhm-billing-codes code: 00 Consultation, 01 Pharmacy, 02 IPD, 03 OPD, 04 Pathology, "
                               "05 Medicines, 06 Nursing Charges, 07 Handling Charges, 08 Delivery Charges, 99 Others");
  }
  return concept_of(kNdhmBillingCodes, it->first, it->second);
}

json money(long long paise, const std::string& currency) { return json{{"value", static_cast<double>(paise) / 100.0}, {"currency", currency}}; }

}  // namespace

std::string add_invoice(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "number", "type", "status", "date", "currency", "line_items", "note"});
  json r = resource_base(b, f, "Invoice", "Invoice");
  r["identifier"] = json::array({json{{"value", f.str("number")}}});
  r["status"] = status_of(f, "status", "issued", {"draft", "issued", "balanced", "cancelled", "entered-in-error"});
  r["type"] = billing(f.str("type"), f.at("type"), true);
  r["subject"] = reference(b.patient());
  r["date"] = f.has("date") ? check_date_time(f.str("date"), f.at("date")) : b.date();
  f.get("date");
  r["participant"] = json::array({json{{"actor", reference(b.practitioner())}}});
  r["issuer"] = reference(b.organization());
  std::string currency = f.opt_str("currency").value_or("INR");
  static const std::regex kCurrency("^[A-Z]{3}$");
  if (!std::regex_match(currency, kCurrency)) throw Error(sqlstate::kInvalidParameter, f.at("currency"), "must be an ISO 4217 code such as INR");

  long long net = 0, tax = 0;
  json lines = json::array();
  auto items = f.list("line_items", {"id", "category", "product", "quantity", "unit", "rate", "mrp", "discount", "cgst", "sgst"});
  if (items.empty()) throw Error(sqlstate::kNotNull, f.at("line_items"), "required (Invoice.lineItem 1..*)");
  for (size_t i = 0; i < items.size(); ++i) {
    Fields& li = items[i];
    json ci = resource_base(b, li, "ChargeItem", "ChargeItem");
    ci["status"] = "billed";
    ci["code"] = billing(li.str("category"), li.at("category"), false);
    ci["subject"] = reference(b.patient());
    if (!b.encounter().empty()) ci["context"] = reference(b.encounter());
    ci["performer"] = json::array({json{{"actor", reference(b.practitioner())}}});
    double qty = li.num("quantity");
    if (qty <= 0) throw Error(sqlstate::kInvalidParameter, li.at("quantity"), "must be > 0");
    json q{{"value", qty}};
    if (auto u = li.opt_str("unit")) q["unit"] = *u;
    ci["quantity"] = q;
    ci["productCodeableConcept"] = read_concept(li.need("product"), li.at("product"));
    std::string ci_ref = b.add(std::move(ci), li.at("id"));

    // Price components (R4 invoice-priceComponentType + NRCES ndhm-price-components).
    long long rate = check_money(li.num("rate"), li.at("rate"));
    json pcs = json::array();
    pcs.push_back(json{{"type", "base"}, {"code", concept_of(kNdhmPriceComponents, "01", "Rate")}, {"amount", money(rate, currency)}});
    auto component = [&](const char* key, const char* type, const char* code, const char* display) -> long long {
      auto x = li.opt_num(key);
      if (!x) return 0;
      long long p = check_money(*x, li.at(key));
      pcs.push_back(json{{"type", type}, {"code", concept_of(kNdhmPriceComponents, code, display)}, {"amount", money(p, currency)}});
      return p;
    };
    component("mrp", "informational", "00", "MRP");
    long long discount = component("discount", "discount", "02", "Discount");
    if (discount > rate) throw Error(sqlstate::kInvalidParameter, li.at("discount"), "is larger than rate");
    long long line_tax = component("cgst", "tax", "03", "CGST");
    line_tax += component("sgst", "tax", "04", "SGST");
    // Checked: each amount is at most kMaxMoney, but a record may hold any number of lines; and
    // net + tax (totalGross) must fit too, hence the bound of 2^61 paise on each.
    constexpr long long kMaxTotal = 1LL << 61;
    if (__builtin_add_overflow(net, rate - discount, &net) || __builtin_add_overflow(tax, line_tax, &tax) ||
        net > kMaxTotal || tax > kMaxTotal)
      throw Error(sqlstate::kInvalidParameter, li.at("rate"), "the invoice's total is too large");
    lines.push_back(json{{"sequence", static_cast<int>(i) + 1}, {"chargeItemReference", reference(ci_ref)}, {"priceComponent", pcs}});
  }
  r["lineItem"] = lines;
  // R4 Invoice: totalNet is the total without taxes, totalGross the total with them.
  r["totalNet"] = money(net, currency);
  r["totalGross"] = money(net + tax, currency);
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

}  // namespace abdm::fhir
