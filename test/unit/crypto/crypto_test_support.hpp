// Helpers shared by the crypto tests: the reference vectors file, hex and SHA-256.
#pragma once

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "core/util/error.hpp"

namespace abdm::crypto::testing {

inline const nlohmann::json& vectors() {
  static const nlohmann::json doc = [] {
    std::ifstream in(std::string(ABDM_TEST_DATA_DIR) + "/fidelius-vectors.json");
    if (!in) throw std::runtime_error("cannot open test/data/fidelius-vectors.json");
    return nlohmann::json::parse(in);
  }();
  return doc;
}

inline std::string hex(std::span<const uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

inline std::string sha256_hex(std::string_view data) {
  uint8_t digest[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return hex(std::span<const uint8_t>(digest, len));
}

// A case's plaintext: inline, or unit × count for the recipe cases.
inline std::string plaintext_of(const nlohmann::json& c) {
  if (c.contains("plaintext")) return c.at("plaintext").get<std::string>();
  const auto& recipe = c.at("plaintextRecipe");
  EXPECT_EQ(recipe.at("kind"), "repeat");
  const std::string unit = recipe.at("unit").get<std::string>();
  const size_t count = recipe.at("count").get<size_t>();
  std::string out;
  out.reserve(unit.size() * count);
  for (size_t i = 0; i < count; ++i) out += unit;
  return out;
}

inline std::string random_text(size_t n, std::mt19937_64& rng) {
  std::string s(n, '\0');
  for (auto& ch : s) ch = static_cast<char>(rng());
  return s;
}

// Runs fn, which must throw abdm::Error; checks its SQLSTATE, field and a message fragment.
inline void expect_error(const std::function<void()>& fn, const std::string& sqlstate, const std::string& field,
                         const std::string& fragment) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected " << field << ": ..." << fragment;
  } catch (const abdm::Error& e) {
    EXPECT_EQ(e.sqlstate(), sqlstate) << e.what();
    EXPECT_EQ(e.field(), field) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what() << "  (wanted: " << fragment << ")";
  }
}

}  // namespace abdm::crypto::testing
