// Files an HMIS stores (report PDFs, scans, images) as base64 attachments: DocumentReference
// (content.attachment.contentType and .data 1..1 in the NRCES profile), Binary (the
// PrescriptionRecord's optional signed prescription) and Media (DiagnosticReportImaging.media).
#include "core/fhir/concept.hpp"
#include "core/fhir/resources.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

namespace {

struct File {
  std::string content_type, data;
};

// content_type + data, with the data checked as base64 and, for a PDF, as a PDF ("%PDF-" header,
// ISO 32000-1 §7.5.2) so a wrongly encoded column is caught before the document is shared.
File read_file(Fields& f) {
  File file{check_mime_type(f.str("content_type"), f.at("content_type")), f.binary("data")};
  check_base64(file.data, f.at("data"));
  if (file.content_type == "application/pdf" && !base64_starts_with(file.data, "%PDF-"))
    throw Error(sqlstate::kInvalidText, f.at("data"), "is not a PDF (content_type is application/pdf but the data does not start with %PDF-)");
  return file;
}

}  // namespace

std::string add_document_reference(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "content_type", "data", "title", "type", "date"});
  json r = resource_base(b, f, "DocumentReference", "DocumentReference");
  File file = read_file(f);
  r["status"] = "current";
  r["docStatus"] = "final";
  if (const json* t = f.get("type")) r["type"] = read_concept(*t, f.at("type"));
  r["subject"] = reference(b.patient());
  r["date"] = b.date();  // an instant: the document's own date
  r["author"] = json::array({reference(b.practitioner())});
  r["custodian"] = reference(b.organization());
  json attachment{{"contentType", file.content_type}, {"data", file.data}};
  if (auto t = f.opt_str("title")) attachment["title"] = *t;
  if (auto d = f.opt_str("date")) attachment["creation"] = check_date_time(*d, f.at("date"));
  r["content"] = json::array({json{{"attachment", attachment}}});
  return b.add(std::move(r), f.at("id"));
}

std::string add_binary(DocumentBuilder& b, Item v, const std::string& path) {
  // Binary has only contentType and data: a title would be dropped, so it is refused.
  Fields f(v, path, {"id", "content_type", "data"});
  json r = resource_base(b, f, "Binary", "Binary");
  File file = read_file(f);
  r["contentType"] = file.content_type;
  r["data"] = file.data;
  return b.add(std::move(r), f.at("id"));
}

std::string add_media(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "content_type", "data", "title", "date"});
  json r = resource_base(b, f, "Media", "Media");
  File file = read_file(f);
  r["status"] = "completed";
  r["subject"] = reference(b.patient());
  json content{{"contentType", file.content_type}, {"data", file.data}};
  if (auto t = f.opt_str("title")) content["title"] = *t;
  if (auto d = f.opt_str("date")) content["creation"] = check_date_time(*d, f.at("date"));
  r["content"] = content;
  return b.add(std::move(r), f.at("id"));
}

}  // namespace abdm::fhir
