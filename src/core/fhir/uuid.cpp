#include "core/fhir/uuid.hpp"

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <stdexcept>

#include "core/util/error.hpp"

namespace abdm::fhir {
namespace {

using Digest = std::array<unsigned char, 20>;

Digest sha1(std::string_view a, std::string_view b) {
  Digest out{};
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) throw Error(sqlstate::kInternal, "", "SHA-1 digest failed");
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string uuid_v5(std::string_view namespace_uuid, std::string_view name) {
  if (!is_uuid(namespace_uuid)) throw Error(sqlstate::kInternal, "", "bad UUID namespace");
  std::string ns_bytes;
  for (size_t i = 0; i < namespace_uuid.size(); ++i) {
    if (namespace_uuid[i] == '-') continue;
    ns_bytes.push_back(static_cast<char>(hex_value(namespace_uuid[i]) * 16 + hex_value(namespace_uuid[i + 1])));
    ++i;
  }
  Digest d = sha1(ns_bytes, name);
  d[6] = static_cast<unsigned char>((d[6] & 0x0F) | 0x50);  // version 5
  d[8] = static_cast<unsigned char>((d[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 0x0F]);
  }
  return out;
}

std::string sha1_hex(std::string_view data) {
  Digest d = sha1(data, {});
  std::string out;
  for (unsigned char c : d) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0F]);
  }
  return out;
}

}  // namespace abdm::fhir
