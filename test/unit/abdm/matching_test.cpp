#include "core/abdm/matching.hpp"

#include <gtest/gtest.h>

#include "core/abdm/inbound.hpp"
#include "core/util/error.hpp"

using namespace abdm::proto;
using nlohmann::json;

TEST(Normalize, Mobile) {
  EXPECT_EQ(normalize_mobile("+91-9800083232"), "9800083232");
  EXPECT_EQ(normalize_mobile("+91 98000 83232"), "9800083232");
  EXPECT_EQ(normalize_mobile("919800083232"), "9800083232");
  EXPECT_EQ(normalize_mobile("09800083232"), "9800083232");
  EXPECT_EQ(normalize_mobile("0091-9800083232"), "9800083232");
  EXPECT_EQ(normalize_mobile("98000-83232"), "9800083232");
  EXPECT_EQ(normalize_mobile("(980) 008-3232"), "9800083232");
  EXPECT_EQ(normalize_mobile("9800083232"), "9800083232");
  EXPECT_FALSE(normalize_mobile("987654XXXX"));
  EXPECT_FALSE(normalize_mobile("98000832"));
  EXPECT_FALSE(normalize_mobile("929800083232"));
  EXPECT_FALSE(normalize_mobile(""));
  EXPECT_FALSE(normalize_mobile("98000+83232"));
}

TEST(Normalize, AbhaNumber) {
  EXPECT_EQ(normalize_abha_number("91-1783-8610-1731"), "91178386101731");
  EXPECT_EQ(normalize_abha_number("91178386101731"), "91178386101731");
  EXPECT_FALSE(normalize_abha_number("916248419XXXX"));
  EXPECT_FALSE(normalize_abha_number("1234"));
}

TEST(Normalize, Names) {
  EXPECT_EQ(normalize_name("Dr. HINA  Patel"), "hina patel");
  EXPECT_EQ(normalize_name("  Mrs.Hina  Patel "), "hina patel");
  EXPECT_EQ(normalize_name("Mr Dr Raj-Kumar O'Neil"), "raj kumar o neil");
  EXPECT_EQ(normalize_name("Smt. Kumari Devi"), "devi");
  EXPECT_EQ(normalize_name("Baby"), "baby");  // a lone honorific-like word is the name
  EXPECT_EQ(normalize_name("Dr. Hina", false), "dr hina");
  EXPECT_EQ(normalize_name("Drishti Mrinal"), "drishti mrinal");  // only whole words are honorifics
  EXPECT_EQ(normalize_name("हिना पटेल"), "हिना पटेल");
}

TEST(Similarity, Levenshtein) {
  EXPECT_EQ(levenshtein_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(levenshtein_distance("", "abc"), 3u);
  EXPECT_EQ(levenshtein_distance("हिना", "हीना"), 1u);  // counted in code points, not bytes
  EXPECT_DOUBLE_EQ(levenshtein_similarity("Hina Patel", "hina patel"), 1.0);
  EXPECT_DOUBLE_EQ(levenshtein_similarity("Patel Hina", "Hina Patel"), 1.0);
  EXPECT_NEAR(levenshtein_similarity("Hina Patel", "Heena Patel"), 1.0 - 2.0 / 11.0, 1e-9);
  EXPECT_LT(levenshtein_similarity("Hina Patel", "Mohan Rao"), 0.4);
}

TEST(Similarity, TrigramMatchesPgTrgm) {
  // pg_trgm: similarity('hina patel','heena patel') = 8/15 (computed by hand from its rules).
  EXPECT_NEAR(trigram_similarity("Hina Patel", "Heena Patel"), 8.0 / 15.0, 1e-9);
  EXPECT_NEAR(trigram_similarity("Hina Patel", "Hina Shah"), 5.0 / 16.0, 1e-9);
  EXPECT_DOUBLE_EQ(trigram_similarity("Patel Hina", "Mr. Hina Patel"), 1.0);
  EXPECT_DOUBLE_EQ(trigram_similarity("", "x"), 0.0);
  EXPECT_DOUBLE_EQ(name_similarity("a b", "a b", NameMetric::kBest), 1.0);
}

namespace {
Candidate cand(std::string ref, std::string name, std::string gender, int yob, std::string mobile,
               std::string abha_number = "", std::string abha_address = "", std::string mr = "") {
  return {std::move(ref), std::move(name), std::move(gender), yob, std::move(mobile), std::move(abha_number),
          std::move(abha_address), std::move(mr)};
}
MatchQuery query(std::string name = "Hina Patel", std::string gender = "F", int yob = 1990,
                 std::optional<std::string> mobile = "9800083232") {
  MatchQuery q;
  q.abha_address = "hinapatel@sbx";
  q.name = std::move(name);
  q.gender = std::move(gender);
  q.year_of_birth = yob;
  q.mobile = std::move(mobile);
  return q;
}
}  // namespace

TEST(Match, AbhaAddressWinsOverDemographics) {
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "F", 1990, "9800083232"),
                               cand("P2", "Someone Else", "M", 1950, "", "", "HinaPatel@sbx")};
  auto r = match_patient(query(), cs);
  ASSERT_EQ(r.outcome, MatchOutcome::kMatched);
  EXPECT_EQ(r.best()->index, 1u);
  EXPECT_EQ(r.best()->matched_by, std::vector<std::string>{"ABHA_ADDRESS"});
}

TEST(Match, AbhaNumberMatchesAcrossFormats) {
  MatchQuery q = query();
  q.abha_address = "other@sbx";
  q.abha_number = "91178386101731";
  std::vector<Candidate> cs = {cand("P1", "X", "M", 1900, "", "91-1783-8610-1731")};
  auto r = match_patient(q, cs);
  ASSERT_EQ(r.outcome, MatchOutcome::kMatched);
  EXPECT_EQ(r.best()->matched_by, std::vector<std::string>{"ABHA_NUMBER"});
}

TEST(Match, MobileWithGenderYearAndFuzzyName) {
  std::vector<Candidate> cs = {cand("P1", "Heena Patel", "F", 1993, "+91-98000-83232")};
  auto r = match_patient(query(), cs);
  ASSERT_EQ(r.outcome, MatchOutcome::kMatched);
  EXPECT_EQ(r.best()->matched_by, std::vector<std::string>{"MOBILE"});
  EXPECT_GT(r.best()->name_score, 0.5);
}

TEST(Match, YearOfBirthToleranceIsFiveByDefault) {
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "F", 1995, "9800083232")};
  EXPECT_EQ(match_patient(query(), cs).outcome, MatchOutcome::kMatched);
  cs[0].year_of_birth = 1996;
  EXPECT_EQ(match_patient(query(), cs).outcome, MatchOutcome::kNoMatch);
  cs[0].year_of_birth = 1984;
  EXPECT_EQ(match_patient(query(), cs).outcome, MatchOutcome::kNoMatch);
  MatchPolicy p;
  p.year_of_birth_tolerance = 6;
  EXPECT_EQ(match_patient(query(), cs, p).outcome, MatchOutcome::kMatched);
  p.year_of_birth_tolerance = 2;
  cs[0].year_of_birth = 1993;
  EXPECT_EQ(match_patient(query(), cs, p).outcome, MatchOutcome::kNoMatch);
  cs[0].year_of_birth.reset();  // unknown birth year never matches demographically
  EXPECT_EQ(match_patient(query(), cs).outcome, MatchOutcome::kNoMatch);
}

TEST(Match, GenderMustBeEqual) {
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "M", 1990, "9800083232")};
  EXPECT_EQ(match_patient(query(), cs).outcome, MatchOutcome::kNoMatch);
}

TEST(Match, NameBelowThresholdRejected) {
  std::vector<Candidate> cs = {cand("P1", "Hina Shah", "F", 1990, "9800083232")};
  EXPECT_EQ(match_patient(query(), cs).outcome, MatchOutcome::kNoMatch);
  MatchPolicy loose;
  loose.name_threshold = 0.3;
  EXPECT_EQ(match_patient(query(), cs, loose).outcome, MatchOutcome::kMatched);
  MatchPolicy lev;
  lev.name_metric = NameMetric::kLevenshtein;
  lev.name_threshold = 0.8;
  std::vector<Candidate> close = {cand("P1", "Heena Patel", "F", 1990, "9800083232")};
  EXPECT_EQ(match_patient(query(), close, lev).outcome, MatchOutcome::kMatched);
  lev.name_threshold = 0.9;
  EXPECT_EQ(match_patient(query(), close, lev).outcome, MatchOutcome::kNoMatch);
}

TEST(Match, MobileMatchingCanBeDisabled) {
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "F", 1990, "9800083232")};
  MatchPolicy p;
  p.match_by_mobile = false;
  EXPECT_EQ(match_patient(query(), cs, p).outcome, MatchOutcome::kNoMatch);
}

TEST(Match, MrNumberWithDemographics) {
  MatchQuery q = query();
  q.mobile.reset();
  q.mr = "TMH-PUID-001";
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "F", 1991, "", "", "", "tmh-puid-001"),
                               cand("P2", "Hina Patel", "F", 1991, "", "", "", "TMH-PUID-002")};
  auto r = match_patient(q, cs);
  ASSERT_EQ(r.outcome, MatchOutcome::kMatched);
  EXPECT_EQ(r.best()->index, 0u);
  EXPECT_EQ(r.best()->matched_by, std::vector<std::string>{"MR"});
}

TEST(Match, MoreIdentifiersRankFirst) {
  MatchQuery q = query();
  q.mr = "TMH-1";
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "F", 1990, "9800083232"),
                               cand("P2", "Hina Patel", "F", 1990, "9800083232", "", "", "TMH-1")};
  auto r = match_patient(q, cs);
  ASSERT_EQ(r.outcome, MatchOutcome::kMatched);
  EXPECT_EQ(r.best()->index, 1u);
  EXPECT_EQ(r.best()->matched_by, (std::vector<std::string>{"MOBILE", "MR"}));
  EXPECT_EQ(r.ranked.size(), 2u);
}

TEST(Match, SharedMobileResolvedByClearlyBetterName) {
  // Sisters sharing a phone: the exact name wins, a near-tie is ambiguous.
  std::vector<Candidate> cs = {cand("P1", "Rina Patel", "F", 1992, "9800083232"),
                               cand("P2", "Hina Patel", "F", 1990, "9800083232")};
  auto r = match_patient(query(), cs);
  ASSERT_EQ(r.outcome, MatchOutcome::kMatched);
  EXPECT_EQ(r.best()->index, 1u);
  auto amb = match_patient(query("Heena Patel"), cs);
  EXPECT_EQ(amb.outcome, MatchOutcome::kAmbiguous);
  EXPECT_EQ(amb.best(), nullptr);
  EXPECT_EQ(amb.ranked.size(), 2u);
}

TEST(Match, IdenticalTwinsAreAmbiguous) {
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "F", 1990, "9800083232"),
                               cand("P2", "Hina Patel", "F", 1990, "9800083232")};
  EXPECT_EQ(match_patient(query(), cs).outcome, MatchOutcome::kAmbiguous);
}

TEST(Match, TwoRecordsWithTheSameAbhaAddressAreAmbiguous) {
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "F", 1990, "", "", "hinapatel@sbx"),
                               cand("P2", "Hina Patel", "F", 1990, "", "", "hinapatel@sbx")};
  EXPECT_EQ(match_patient(query("Hina Patel", "F", 1990, std::nullopt), cs).outcome, MatchOutcome::kAmbiguous);
}

TEST(Match, SamePatientTwiceIsOneMatch) {
  std::vector<Candidate> cs = {cand("P1", "Hina Patel", "F", 1990, "9800083232"),
                               cand("P1", "Hina Patel", "F", 1990, "9800083232")};
  EXPECT_EQ(match_patient(query(), cs).outcome, MatchOutcome::kMatched);
}

TEST(Match, NoCandidatesNoMatch) {
  EXPECT_EQ(match_patient(query(), {}).outcome, MatchOutcome::kNoMatch);
}

TEST(Match, QueryFromDiscoverRequestUsesVerifiedIdentifiers) {
  const auto req = parse_discover(json::parse(R"({
    "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
    "patient": {"id": "hinapatel@sbx",
      "verifiedIdentifiers": [{"type": "MOBILE", "value": "+91-9800083232"},
                              {"type": "ABHA_NUMBER", "value": "91-1783-8610-1731"}],
      "unverifiedIdentifiers": [{"type": "MR", "value": " TMH-PUID-001 "}, {"type": "MOBILE", "value": "9999999999"}],
      "name": "Hina Patel", "gender": "F", "yearOfBirth": 1990}})"));
  const MatchQuery q = match_query(req);
  EXPECT_EQ(q.abha_address, "hinapatel@sbx");
  EXPECT_EQ(q.mobile, "9800083232");
  EXPECT_EQ(q.abha_number, "91178386101731");
  EXPECT_EQ(q.mr, "TMH-PUID-001");
  const auto unverified_mobile_only = parse_discover(json::parse(R"({
    "transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
    "patient": {"id": "x@sbx", "verifiedIdentifiers": [],
      "unverifiedIdentifiers": [{"type": "MOBILE", "value": "9999999999"}],
      "name": "A", "gender": "F", "yearOfBirth": 1990}})"));
  EXPECT_FALSE(match_query(unverified_mobile_only).mobile);  // only verified mobiles count
}

TEST(Match, CandidatesFromJsonAndResultJson) {
  const json in = json::parse(R"([
    {"patientRef": "P1", "name": "Hina Patel", "gender": "F", "yearOfBirth": 1990, "mobile": "9800083232"},
    {"patientRef": "P2", "name": "Raj", "gender": "M", "yearOfBirth": "1980", "abhaAddress": "raj@sbx"}])");
  auto cs = candidates_from_json(in);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[1].year_of_birth, 1980);
  auto r = match_patient(query(), cs);
  const json out = to_json(r, cs);
  EXPECT_EQ(out["outcome"], "matched");
  EXPECT_EQ(out["patientRef"], "P1");
  EXPECT_EQ(out["matchedBy"], json::array({"MOBILE"}));
  try {
    candidates_from_json(json::parse(R"([{"name": "no ref"}])"));
    FAIL();
  } catch (const abdm::Error& e) {
    EXPECT_EQ(e.field(), "candidates[0].patientRef");
  }
  EXPECT_EQ(to_json(match_patient(query(), {}), {})["outcome"], "no_match");
}
