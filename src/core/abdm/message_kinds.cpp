#include "core/abdm/message_kinds.hpp"

#include <cstddef>
#include <type_traits>
#include <variant>

#include "core/util/error.hpp"

namespace abdm::proto {

namespace {

using nlohmann::json;

// A row for kind K whose body is T, parsed by Parse. The compiler checks that T is the variant's
// alternative at K's position, so a parser cannot be paired with another kind's struct.
template <MessageKind K, class T, T (*Parse)(const json&)>
constexpr MessageKindSpec row(std::string_view name, std::string_view path, std::array<std::string_view, 3> aliases,
                              std::string_view handler, std::optional<OutboundKind> reply) {
  static_assert(std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(K), InboundBody>, T>,
                "InboundBody's alternative at this kind's position is not the kind's struct");
  return MessageKindSpec{
      K, name, path, aliases, handler, reply,
      [](const json& body) -> InboundBody { return InboundBody(std::in_place_type<T>, Parse(body)); },
      [](const InboundBody& body) -> json { return to_json(std::get<T>(body)); },
  };
}

// Paths: NHA "Sandbox Documentation (ABDM Milestone 2)" v2.8 and its §8 API listing (inbound.hpp
// cites the rest). Aliases are the older spellings still found in NHA's own material: the link
// result as `/v3/hip/link/on-carecontext` (abdm-docs hip-initiated-linking.md) and
// `/link/on-care-context` (NHA-ABDM/ABDM-MOCK-HIP HIPConstant.java); the v0.5 ABHA status path
// (`/v0.5/patients/status/notify`, which has no "/v3/") is matched by the router itself.
constexpr std::array<MessageKindSpec, std::variant_size_v<InboundBody>> kKinds = {{
    row<MessageKind::kDiscover, DiscoverRequest, parse_discover>(
        "discover", "/api/v3/hip/patient/care-context/discover", {}, "abdm_hip_internal.handle_discover",
        OutboundKind::kOnDiscover),
    row<MessageKind::kLinkInit, LinkInitRequest, parse_link_init>(
        "link_init", "/api/v3/hip/link/care-context/init", {}, "abdm_hip_internal.handle_link_init", OutboundKind::kOnInit),
    row<MessageKind::kLinkConfirm, LinkConfirmRequest, parse_link_confirm>(
        "link_confirm", "/api/v3/hip/link/care-context/confirm", {}, "abdm_hip_internal.handle_link_confirm",
        OutboundKind::kOnConfirm),
    row<MessageKind::kConsentNotify, ConsentNotify, parse_consent_notify>(
        "consent_notify", "/api/v3/consent/request/hip/notify", {}, "abdm_hip_internal.handle_consent_notify",
        OutboundKind::kConsentOnNotify),
    row<MessageKind::kHiRequest, HiRequest, parse_hi_request>(
        "hi_request", "/api/v3/hip/health-information/request", {}, "abdm_hip_internal.handle_hi_request",
        OutboundKind::kHiOnRequest),
    row<MessageKind::kOnGenerateToken, OnGenerateToken, parse_on_generate_token>(
        "on_generate_token", "/api/v3/hip/token/on-generate-token", {}, "abdm_hip_internal.handle_on_generate_token",
        std::nullopt),
    row<MessageKind::kOnCareContext, OnCareContext, parse_on_carecontext>(
        "on_carecontext", "/api/v3/link/on_carecontext",
        {"hip/link/on-carecontext", "link/on-care-context", "link/on-carecontext"}, "abdm_hip_internal.handle_on_carecontext",
        std::nullopt),
    row<MessageKind::kContextOnNotify, ContextOnNotify, parse_context_on_notify>(
        "context_on_notify", "/api/v3/links/context/on-notify", {}, "abdm_hip_internal.handle_context_on_notify",
        std::nullopt),
    row<MessageKind::kSmsOnNotify, SmsOnNotify, parse_sms_on_notify>(
        "sms_on_notify", "/api/v3/patients/sms/on-notify", {}, "abdm_hip_internal.handle_sms_on_notify", std::nullopt),
    // ABHA deactivation/deletion: no V3 inbound path is published; the V3 analogue of v0.5's
    // path is served (and `hip/patients/status/notify`, as some gateway builds call it).
    row<MessageKind::kPatientStatusNotify, PatientStatusNotify, parse_patient_status_notify>(
        "patient_status_notify", "/api/v3/patients/status/notify", {"hip/patients/status/notify"},
        "abdm_hip_internal.handle_patient_status_notify", OutboundKind::kPatientStatusOnNotify),
}};

// Every kind has its row, at its own position: MessageKind values index the table.
constexpr bool rows_in_kind_order() {
  for (std::size_t i = 0; i < kKinds.size(); ++i)
    if (static_cast<std::size_t>(kKinds[i].kind) != i) return false;
  return true;
}
static_assert(rows_in_kind_order(), "kKinds must list every MessageKind once, in enum order");
static_assert(kKinds.size() == static_cast<std::size_t>(MessageKind::kPatientStatusNotify) + 1,
              "a MessageKind has no row in kKinds");

constexpr bool every_row_complete() {
  for (const MessageKindSpec& k : kKinds)
    if (k.name.empty() || !k.path.starts_with("/api/v3/") || !k.handler.starts_with("abdm_hip_internal.handle_")) return false;
  return true;
}
static_assert(every_row_complete(), "every kind needs a name, a V3 path and an SQL handler");

}  // namespace

std::span<const MessageKindSpec> message_kinds() { return kKinds; }

const MessageKindSpec& message_kind(MessageKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  if (i >= kKinds.size()) throw Error(sqlstate::kInternal, "kind", "unknown message kind");
  return kKinds[i];
}

}  // namespace abdm::proto
