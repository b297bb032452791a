#include "core/util/text.hpp"
#include "core/abdm/matching.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <set>

#include "core/abdm/inbound.hpp"
#include "core/abdm/json_read.hpp"
#include "core/util/error.hpp"

namespace abdm::proto {

namespace {

using abdm::text::iequals;

std::string digits_only(std::string_view text, bool& foreign) {
  std::string d;
  foreign = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') d.push_back(c);
    else if (c == '+' && d.empty()) continue;
    else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t') continue;
    else foreign = true;
  }
  return d;
}


std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// UTF-8 → code points; invalid bytes pass through as themselves.
std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + len > s.size()) len = 1;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

std::vector<std::string> words(const std::string& normalised) {
  std::vector<std::string> w;
  std::size_t i = 0;
  while (i < normalised.size()) {
    std::size_t j = normalised.find(' ', i);
    if (j == std::string::npos) j = normalised.size();
    if (j > i) w.push_back(normalised.substr(i, j - i));
    i = j + 1;
  }
  return w;
}

std::string sorted_words(const std::string& normalised) {
  auto w = words(normalised);
  std::sort(w.begin(), w.end());
  std::string out;
  for (const auto& x : w) out += (out.empty() ? "" : " ") + x;
  return out;
}

constexpr std::array<std::string_view, 14> kHonorifics = {"mr",  "mrs",    "ms", "miss",   "dr",   "shri", "sri",
                                                          "smt", "kumari", "km", "master", "prof", "baby", "late"};

}  // namespace

std::optional<std::string> normalize_mobile(std::string_view text) {
  bool foreign = false;
  std::string d = digits_only(text, foreign);
  if (foreign) return std::nullopt;
  if (d.size() == 14 && d.starts_with("0091")) d = d.substr(4);
  else if (d.size() == 12 && d.starts_with("91")) d = d.substr(2);
  else if (d.size() == 11 && d.starts_with("0")) d = d.substr(1);
  if (d.size() != 10) return std::nullopt;
  return d;
}

std::optional<std::string> normalize_abha_number(std::string_view text) {
  bool foreign = false;
  std::string d = digits_only(text, foreign);
  if (foreign || d.size() != 14) return std::nullopt;
  return d;
}

std::string normalize_name(std::string_view name, bool strip_honorifics) {
  std::string s;
  s.reserve(name.size());
  bool space = true;  // suppress leading space
  for (char ch : name) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c)) {
      s.push_back(c < 0x80 ? static_cast<char>(std::tolower(c)) : ch);
      space = false;
    } else if (!space) {
      s.push_back(' ');
      space = true;
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (!strip_honorifics) return s;
  auto w = words(s);
  std::size_t first = 0;
  // Keep at least one word: "Baby" alone is a (newborn's) name on many hospital records.
  while (first + 1 < w.size() &&
         std::find(kHonorifics.begin(), kHonorifics.end(), w[first]) != kHonorifics.end())
    ++first;
  std::string out;
  for (std::size_t i = first; i < w.size(); ++i) out += (out.empty() ? "" : " ") + w[i];
  return out;
}

std::size_t levenshtein_distance(std::string_view a, std::string_view b) {
  const auto x = code_points(a), y = code_points(b);
  std::vector<std::size_t> row(y.size() + 1);
  for (std::size_t j = 0; j <= y.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= x.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= y.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (x[i - 1] == y[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[y.size()];
}

double levenshtein_similarity(std::string_view a, std::string_view b) {
  const std::string na = normalize_name(a), nb = normalize_name(b);
  auto sim = [](const std::string& p, const std::string& q) {
    const std::size_t len = std::max(code_points(p).size(), code_points(q).size());
    if (len == 0) return 0.0;
    return 1.0 - static_cast<double>(levenshtein_distance(p, q)) / static_cast<double>(len);
  };
  return std::max(sim(na, nb), sim(sorted_words(na), sorted_words(nb)));
}

double trigram_similarity(std::string_view a, std::string_view b) {
  auto grams = [](std::string_view name) {
    std::set<std::u32string> g;
    for (const auto& w : words(normalize_name(name))) {
      std::u32string padded = U"  ";
      for (char32_t c : code_points(w)) padded.push_back(c);
      padded.push_back(U' ');
      for (std::size_t i = 0; i + 3 <= padded.size(); ++i) g.insert(padded.substr(i, 3));
    }
    return g;
  };
  const auto ga = grams(a), gb = grams(b);
  if (ga.empty() || gb.empty()) return 0.0;
  std::size_t common = 0;
  for (const auto& t : ga) common += gb.count(t);
  return static_cast<double>(common) / static_cast<double>(ga.size() + gb.size() - common);
}

double name_similarity(std::string_view a, std::string_view b, NameMetric metric) {
  switch (metric) {
    case NameMetric::kTrigram: return trigram_similarity(a, b);
    case NameMetric::kLevenshtein: return levenshtein_similarity(a, b);
    case NameMetric::kBest: return std::max(trigram_similarity(a, b), levenshtein_similarity(a, b));
  }
  return 0.0;
}

MatchQuery match_query(const DiscoverRequest& r) {
  MatchQuery q;
  q.abha_address = r.abha_address;
  if (auto n = r.identifier("ABHA_NUMBER", true)) q.abha_number = normalize_abha_number(*n);
  if (auto m = r.identifier("MOBILE", true)) q.mobile = normalize_mobile(*m);
  if (auto mr = r.identifier("MR", false)) q.mr = trim(*mr);
  // An ABHA address passed as a verified identifier (10bedicu/care_abdm) when patient.id is absent.
  if (q.abha_address.empty())
    if (auto a = r.identifier("ABHA_ADDRESS", true)) q.abha_address = *a;
  q.name = r.name;
  q.gender = r.gender;
  q.year_of_birth = r.year_of_birth;
  return q;
}

MatchResult match_patient(const MatchQuery& q, const std::vector<Candidate>& cs, const MatchPolicy& policy) {
  MatchResult result;
  const std::string qaddr = trim(q.abha_address);

  // 1. Verified ABHA identity.
  for (std::size_t i = 0; i < cs.size(); ++i) {
    const Candidate& c = cs[i];
    MatchCandidate m{i, {}, 0, true};
    if (!qaddr.empty() && !trim(c.abha_address).empty() && iequals(trim(c.abha_address), qaddr))
      m.matched_by.push_back("ABHA_ADDRESS");
    if (q.abha_number) {
      auto cn = normalize_abha_number(c.abha_number);
      if (cn && *cn == *q.abha_number) m.matched_by.push_back("ABHA_NUMBER");
    }
    if (m.matched_by.empty()) continue;
    if (q.mobile) {
      auto cm = normalize_mobile(c.mobile);
      if (cm && *cm == *q.mobile) m.matched_by.push_back("MOBILE");
    }
    if (q.mr && !trim(c.mr).empty() && iequals(trim(c.mr), *q.mr)) m.matched_by.push_back("MR");
    m.name_score = name_similarity(q.name, c.name, policy.name_metric);
    result.ranked.push_back(std::move(m));
  }

  // 2. Demographics plus mobile or MR.
  if (result.ranked.empty()) {
    for (std::size_t i = 0; i < cs.size(); ++i) {
      const Candidate& c = cs[i];
      if (!iequals(trim(c.gender), q.gender)) continue;
      if (!c.year_of_birth || std::abs(*c.year_of_birth - q.year_of_birth) > policy.year_of_birth_tolerance) continue;
      MatchCandidate m{i, {}, 0, false};
      if (policy.match_by_mobile && q.mobile) {
        auto cm = normalize_mobile(c.mobile);
        if (cm && *cm == *q.mobile) m.matched_by.push_back("MOBILE");
      }
      if (policy.match_by_mr && q.mr && !trim(c.mr).empty() && iequals(trim(c.mr), *q.mr))
        m.matched_by.push_back("MR");
      if (m.matched_by.empty()) continue;
      m.name_score = name_similarity(q.name, c.name, policy.name_metric);
      if (m.name_score < policy.name_threshold) continue;
      result.ranked.push_back(std::move(m));
    }
  }

  if (result.ranked.empty()) return result;  // kNoMatch
  std::stable_sort(result.ranked.begin(), result.ranked.end(), [](const MatchCandidate& a, const MatchCandidate& b) {
    if (a.matched_by.size() != b.matched_by.size()) return a.matched_by.size() > b.matched_by.size();
    return a.name_score > b.name_score;
  });
  if (result.ranked.size() == 1) {
    result.outcome = MatchOutcome::kMatched;
    return result;
  }
  const MatchCandidate& first = result.ranked[0];
  const MatchCandidate& second = result.ranked[1];
  // The same HMIS patient may appear twice (one row per identifier look-up).
  if (cs[first.index].patient_ref == cs[second.index].patient_ref && !cs[first.index].patient_ref.empty()) {
    bool all_same = std::all_of(result.ranked.begin(), result.ranked.end(), [&](const MatchCandidate& m) {
      return cs[m.index].patient_ref == cs[first.index].patient_ref;
    });
    if (all_same) {
      result.outcome = MatchOutcome::kMatched;
      return result;
    }
  }
  if (first.matched_by.size() > second.matched_by.size()) {
    result.outcome = MatchOutcome::kMatched;
  } else if (!first.strong && first.name_score - second.name_score >= policy.ambiguity_margin) {
    result.outcome = MatchOutcome::kMatched;
  } else {
    result.outcome = MatchOutcome::kAmbiguous;
  }
  return result;
}

std::vector<Candidate> candidates_from_json(const nlohmann::json& array) {
  using namespace json_read;
  if (!array.is_array()) throw Error(sqlstate::kInvalidParameter, "candidates", "must be a JSON array");
  std::vector<Candidate> out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string p = index("candidates", i);
    const auto& el = array[i];
    if (!el.is_object()) throw Error(sqlstate::kInvalidParameter, p, "must be an object");
    Candidate c;
    c.patient_ref = req_string(el, "patientRef", p, kIdLen);
    c.name = opt_string(el, "name", p, kTextLen).value_or("");
    c.gender = opt_string(el, "gender", p, 8).value_or("");
    if (auto y = opt_int(el, "yearOfBirth", p, 1800, 2200)) c.year_of_birth = static_cast<int>(*y);
    c.mobile = opt_string(el, "mobile", p, 32).value_or("");
    c.abha_number = opt_string(el, "abhaNumber", p, 32).value_or("");
    c.abha_address = opt_string(el, "abhaAddress", p, kIdLen).value_or("");
    c.mr = opt_string(el, "mr", p, kIdLen).value_or("");
    out.push_back(std::move(c));
  }
  return out;
}

nlohmann::json to_json(const MatchResult& r, const std::vector<Candidate>& cs) {
  nlohmann::json j;
  j["outcome"] = r.outcome == MatchOutcome::kMatched ? "matched" : r.outcome == MatchOutcome::kAmbiguous ? "ambiguous" : "no_match";
  nlohmann::json ranked = nlohmann::json::array();
  for (const auto& m : r.ranked)
    ranked.push_back({{"index", m.index}, {"patientRef", cs.at(m.index).patient_ref}, {"matchedBy", m.matched_by},
                      {"nameScore", m.name_score}});
  if (const MatchCandidate* b = r.best()) {
    j["index"] = b->index;
    j["patientRef"] = cs.at(b->index).patient_ref;
    j["matchedBy"] = b->matched_by;
    j["nameScore"] = b->name_score;
  }
  j["ranked"] = ranked;
  return j;
}

}  // namespace abdm::proto
