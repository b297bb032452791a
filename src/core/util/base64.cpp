#include "core/util/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/util/error.hpp"

namespace abdm {
namespace {

// EVP_EncodeBlock/EVP_DecodeBlock take an int length; blocks of a few MiB keep every length far
// from INT_MAX. Multiples of 3 (bytes) and 4 (characters) keep the blocks' outputs contiguous.
constexpr size_t kEncodeBlock = size_t{3} << 20;
constexpr size_t kDecodeBlock = size_t{4} << 20;

bool in_alphabet(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Only on the error path: says where the text stops being canonical base64. A character outside
// the alphabet is named first, then a misplaced '=', then non-zero bits under the padding.
[[noreturn]] void throw_bad_text(std::string_view text, std::string_view field) {
  char msg[128];
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (in_alphabet(c) || c == '=') continue;
    if (c == '\n' || c == '\r')
      std::snprintf(msg, sizeof msg, "invalid base64: line break at offset %zu (base64 without line breaks is required)", i);
    else
      std::snprintf(msg, sizeof msg, "invalid base64: character 0x%02x at offset %zu is not in the standard alphabet", c, i);
    throw Error(sqlstate::kInvalidText, std::string(field), msg);
  }
  size_t pad_start = text.size();
  while (pad_start > 0 && text.size() - pad_start < 2 && text[pad_start - 1] == '=') --pad_start;
  const size_t misplaced = text.find('=');
  if (misplaced < pad_start) {
    std::snprintf(msg, sizeof msg, "invalid base64: '=' at offset %zu is not final padding", misplaced);
    throw Error(sqlstate::kInvalidText, std::string(field), msg);
  }
  throw Error(sqlstate::kInvalidText, std::string(field), "invalid base64: non-zero bits under the '=' padding");
}

}  // namespace

void base64_encode_into(std::span<const uint8_t> in, char* out) {
  const uint8_t* p = in.data();
  size_t n = in.size();
  if (n == 0) return;
  // All but the last 1–3 bytes go straight into out. EVP_EncodeBlock NUL-terminates its output;
  // that NUL lands on the first character of the next block, which is written afterwards.
  size_t body = (n - 1) / 3 * 3;
  while (body > 0) {
    size_t block = std::min(body, kEncodeBlock);
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), p, static_cast<int>(block));
    p += block;
    out += block / 3 * 4;
    body -= block;
    n -= block;
  }
  // The last group (with its padding) goes through a scratch buffer so the NUL stays out of `out`.
  unsigned char last[5];
  EVP_EncodeBlock(last, p, static_cast<int>(n));
  std::memcpy(out, last, 4);
}

std::string base64_encode(std::span<const uint8_t> in) {
  std::string out(base64_encoded_size(in.size()), '\0');
  base64_encode_into(in, out.data());
  return out;
}

std::string base64_encode(std::string_view bytes) {
  return base64_encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

size_t base64_decoded_size(std::string_view text, std::string_view field) {
  if (text.size() % 4 != 0) {
    // A stray character usually explains the length; name it if there is one.
    if (std::any_of(text.begin(), text.end(), [](char c) { return !in_alphabet(static_cast<unsigned char>(c)) && c != '='; }))
      throw_bad_text(text, field);  // names the character
    char msg[96];
    std::snprintf(msg, sizeof msg, "invalid base64: length %zu is not a multiple of 4", text.size());
    throw Error(sqlstate::kInvalidText, std::string(field), msg);
  }
  if (text.empty()) return 0;
  size_t pad = text.back() == '=' ? (text[text.size() - 2] == '=' ? 2 : 1) : 0;
  return text.size() / 4 * 3 - pad;
}

size_t base64_decode_into(std::string_view text, uint8_t* out, std::string_view field) {
  const size_t size = base64_decoded_size(text, field);
  if (text.empty()) return 0;

  // Every group but the last holds four alphabet characters. EVP_DecodeBlock rejects other
  // characters inside a block but trims whitespace at its ends (caught by the length check) and
  // reads '=' as 'A' (caught by memchr).
  std::string_view body = text.substr(0, text.size() - 4);
  uint8_t* o = out;
  while (!body.empty()) {
    size_t block = std::min(body.size(), kDecodeBlock);
    const char* b = body.data();
    if (std::memchr(b, '=', block) != nullptr ||
        EVP_DecodeBlock(o, reinterpret_cast<const unsigned char*>(b), static_cast<int>(block)) !=
            static_cast<int>(block / 4 * 3))
      throw_bad_text(text, field);
    o += block / 4 * 3;
    body.remove_prefix(block);
  }

  // The last group: up to two '=' at its end, none before them, and zero bits under the padding
  // (RFC 4648 §3.5 lets a decoder refuse non-canonical encodings; a standard encoder never makes one).
  unsigned char group[4];
  std::memcpy(group, text.data() + text.size() - 4, 4);
  const size_t pad = group[3] != '=' ? 0 : (group[2] == '=' ? 2 : 1);
  for (size_t i = 0; i < 4 - pad; ++i)
    if (group[i] == '=') throw_bad_text(text, field);
  for (size_t i = 4 - pad; i < 4; ++i) group[i] = 'A';
  unsigned char bytes[4];
  if (EVP_DecodeBlock(bytes, group, 4) != 3) throw_bad_text(text, field);
  if ((pad >= 1 && bytes[2] != 0) || (pad == 2 && bytes[1] != 0)) throw_bad_text(text, field);
  std::memcpy(o, bytes, 3 - pad);
  return size;
}

std::vector<uint8_t> base64_decode(std::string_view text, std::string_view field) {
  std::vector<uint8_t> out(base64_decoded_size(text, field));
  base64_decode_into(text, out.data(), field);
  return out;
}

}  // namespace abdm
