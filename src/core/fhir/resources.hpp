// Builders for the section resources, one per record item shape (docs/fhir-record.md). Each reads
// one record object at `path`, refuses unknown fields and bad values by path, appends the resource
// (with the NRCES entry profile in meta.profile) to the document and returns its reference.
// Profiles: https://nrces.in/ndhm/fhir/r4/StructureDefinition/<name> (IG 6.x).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>

#include <string>

#include "core/fhir/document_builder.hpp"

namespace abdm::fhir {

using Item = const nlohmann::json&;

// clinical.cpp
std::string add_condition(DocumentBuilder& b, Item v, const std::string& path);
std::string add_allergy(DocumentBuilder& b, Item v, const std::string& path);
// `profile`: Observation, or one of the WellnessRecord observation profiles (ObservationVitalSigns, ...).
std::string add_observation(DocumentBuilder& b, Item v, const std::string& path, const std::string& profile = "Observation");
std::string add_service_request(DocumentBuilder& b, Item v, const std::string& path);
std::string add_appointment(DocumentBuilder& b, Item v, const std::string& path);
std::string add_procedure(DocumentBuilder& b, Item v, const std::string& path);
std::string add_family_history(DocumentBuilder& b, Item v, const std::string& path);
std::string add_care_plan(DocumentBuilder& b, Item v, const std::string& path);

// medication.cpp
std::string add_medication_request(DocumentBuilder& b, Item v, const std::string& path);
std::string add_medication_statement(DocumentBuilder& b, Item v, const std::string& path);

// attachments.cpp: a base64 file → DocumentReference, Binary (PrescriptionRecord) or Media (imaging).
std::string add_document_reference(DocumentBuilder& b, Item v, const std::string& path);
std::string add_binary(DocumentBuilder& b, Item v, const std::string& path);
std::string add_media(DocumentBuilder& b, Item v, const std::string& path);

// diagnostic_report.cpp: DiagnosticReportLab or DiagnosticReportImaging with its results/media.
std::string add_diagnostic_report(DocumentBuilder& b, Item v, const std::string& path);

// immunization.cpp
std::string add_immunization(DocumentBuilder& b, Item v, const std::string& path);

// invoice.cpp: the Invoice and one ChargeItem per line item.
std::string add_invoice(DocumentBuilder& b, Item v, const std::string& path);

// Shared by the files above.
nlohmann::json resource_base(DocumentBuilder& b, Fields& f, const char* resource_type, const std::string& profile);
void put_note(nlohmann::json& r, Fields& f);  // record "note" → Annotation
// The status in `key` (default `dflt`), checked against the resource's required status ValueSet.
std::string status_of(Fields& f, const char* key, const char* dflt, std::initializer_list<std::string_view> allowed);

}  // namespace abdm::fhir
