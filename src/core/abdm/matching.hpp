// Patient matching for user-initiated discovery. The rules combine the v0.5 spec's
// (ndhm-hip.yml `/care-contexts/discover`: a verified identifier must match, fuzzy name, same
// gender, year of birth within a tolerance, rank by matching identifiers, still ambiguous → error)
// with the sandbox flowchart (abdm-docs discovery-link.md: ABHA address first, else mobile →
// gender → age ±5 → similar name, else MR number → the same demographic checks) and the
// implementations that use trigram (10bedicu/care_abdm api/v3/viewsets/hip.py) or Levenshtein
// (ProjectEKA/hip-service FuzzyNameMatcher.cs) name similarity.
//
// Pure functions over candidates: the SQL layer fetches the few candidate rows with indexed
// look-ups (ABHA address, ABHA number, normalised mobile, MR) and hands them in.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace abdm::proto {

struct DiscoverRequest;

// Indian mobile → its 10 digits. Accepts "+91-98000 83232", "919800083232", "09800083232",
// "0091 9800083232", "(980) 008-3232"; nullopt when what remains is not 10 digits (masked
// "987654XXXX" included).
std::optional<std::string> normalize_mobile(std::string_view text);

// ABHA number → its 14 digits ("91-1234-5678-9012" → "91123456789012"); nullopt otherwise.
std::optional<std::string> normalize_abha_number(std::string_view text);

// Lower case (ASCII), punctuation → space, runs of space collapsed, leading honorifics dropped
// (mr, mrs, ms, miss, dr, shri, sri, smt, kumari, km, master, prof, baby, late) when
// strip_honorifics; "Dr. HINA  Patel" → "hina patel". Non-ASCII letters are kept as they are.
std::string normalize_name(std::string_view name, bool strip_honorifics = true);

// Edit distance over Unicode code points.
std::size_t levenshtein_distance(std::string_view a, std::string_view b);

// Similarities in [0, 1] of two names, both normalised first.
// Levenshtein: 1 − distance / longer length, the better of the names as given and with their
// words sorted (so "Patel Hina" = "Hina Patel").
double levenshtein_similarity(std::string_view a, std::string_view b);
// Trigram: pg_trgm's similarity (words padded "  w ", |A∩B| / |A∪B| over distinct trigrams).
double trigram_similarity(std::string_view a, std::string_view b);

enum class NameMetric { kTrigram, kLevenshtein, kBest /* the higher of the two */ };

struct MatchPolicy {
  int year_of_birth_tolerance = 5;  // ± years; the sandbox flowchart's 5 (the v0.5 YAML says 2)
  NameMetric name_metric = NameMetric::kTrigram;
  double name_threshold = 0.4;      // minimum similarity for a demographic match
  // Two demographic candidates with the same identifier count are told apart only when the
  // better name score leads by at least this much; otherwise the result is ambiguous.
  double ambiguity_margin = 0.15;
  bool match_by_mobile = true;  // verified MOBILE + demographics
  bool match_by_mr = true;      // MR (an unverified identifier) + demographics
};

double name_similarity(std::string_view a, std::string_view b, NameMetric metric);

// One HMIS patient as the SQL layer hands it in. Empty strings mean "not on file".
struct Candidate {
  std::string patient_ref;  // HMIS patient reference (sent as patient[].referenceNumber)
  std::string name;
  std::string gender;  // M, F, O, U
  std::optional<int> year_of_birth;
  std::string mobile;  // any format; normalised here
  std::string abha_number;
  std::string abha_address;
  std::string mr;  // medical-record number, when the HMIS keeps one apart from patient_ref
};

// What the discover request offers to match on.
struct MatchQuery {
  std::string abha_address;
  std::optional<std::string> abha_number;  // 14 digits
  std::optional<std::string> mobile;       // 10 digits
  std::optional<std::string> mr;
  std::string name;
  std::string gender;
  int year_of_birth = 0;
};

// ABHA address from patient.id, ABHA number and mobile from the *verified* identifiers
// (normalised; unparseable values dropped), MR from either list.
MatchQuery match_query(const DiscoverRequest& request);

struct MatchCandidate {
  std::size_t index = 0;                // into the candidate vector
  std::vector<std::string> matched_by;  // ABHA_ADDRESS, ABHA_NUMBER, MOBILE, MR (V3 identifier types)
  double name_score = 0;
  bool strong = false;  // matched by ABHA address / number
};

enum class MatchOutcome { kMatched, kNoMatch, kAmbiguous };

struct MatchResult {
  MatchOutcome outcome = MatchOutcome::kNoMatch;
  std::vector<MatchCandidate> ranked;  // every candidate that passed, best first
  // The chosen candidate (ranked.front()) when outcome == kMatched.
  const MatchCandidate* best() const { return outcome == MatchOutcome::kMatched ? &ranked.front() : nullptr; }
};

// 1. Candidates whose ABHA address (case-insensitive) or ABHA number equals the request's are
//    strong matches; if there are any, only they count.
// 2. Otherwise a candidate matches when gender is equal, year of birth within tolerance, the
//    name similar enough, and its mobile (when policy allows) or MR (when allowed) equals the
//    request's.
// Ranking: more matching identifiers first, then name score. The front candidate wins when it
// has more identifiers than the next, or (demographic matches only) the same number and a name
// score ahead by ambiguity_margin; otherwise kAmbiguous.
MatchResult match_patient(const MatchQuery& query, const std::vector<Candidate>& candidates,
                          const MatchPolicy& policy = {});

// Candidates from the SQL layer's jsonb: [{"patientRef", "name", "gender", "yearOfBirth",
// "mobile", "abhaNumber", "abhaAddress", "mr"}, ...]; throws abdm::Error on a bad element.
std::vector<Candidate> candidates_from_json(const nlohmann::json& array);
// {"outcome": "matched"|"no_match"|"ambiguous", "patientRef"?, "index"?, "matchedBy"?,
//  "nameScore"?, "ranked": [{"index", "patientRef", "matchedBy", "nameScore"}...]}
nlohmann::json to_json(const MatchResult& result, const std::vector<Candidate>& candidates);

}  // namespace abdm::proto
