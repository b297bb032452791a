#include "core/crypto/fidelius.hpp"

#include "core/util/base64.hpp"
#include "core/util/error.hpp"

namespace abdm::crypto {

KeyMaterial generate_key_material() {
  const KeyPair pair = generate_key_pair();
  const Nonce nonce = generate_nonce();
  return KeyMaterial{private_key_base64(pair.private_key), raw_public_key_base64(pair.public_key),
                     x509_public_key_base64(pair.public_key), base64_encode(nonce)};
}

SessionKeys sender_session_keys(std::string_view sender_private_key, std::string_view sender_nonce,
                                std::string_view requester_public_key, std::string_view requester_nonce) {
  // Parsed in argument order so the first bad argument is the one reported.
  const Scalar own = parse_private_key(sender_private_key, "sender_private_key");
  const Nonce own_nonce = parse_nonce(sender_nonce, "sender_nonce");
  const Point peer = parse_public_key(requester_public_key, "requester_public_key");
  const Nonce peer_nonce = parse_nonce(requester_nonce, "requester_nonce");
  // Fidelius XORs the two nonces into the HKDF salt and the GCM IV: equal nonces make both all
  // zero, the same for every transfer that repeats them. A sender picks its own nonce, so it can
  // always pick another; the reference tool never checks this.
  if (own_nonce == peer_nonce)
    throw Error(sqlstate::kInvalidParameter, "sender_nonce",
                "equals requester_nonce: their XOR, the salt and IV, would be all zero");
  return agree_session_keys(own, peer, own_nonce, peer_nonce);
}

size_t encrypted_size(size_t plaintext_bytes) { return sealed_base64_size(plaintext_bytes); }

void encrypt_into(const SessionKeys& keys, std::string_view plaintext, char* out) {
  seal_to_base64(keys, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size()),
                 out);
}

std::string encrypt(std::string_view plaintext, std::string_view sender_private_key, std::string_view sender_nonce,
                    std::string_view requester_public_key, std::string_view requester_nonce) {
  const SessionKeys keys = sender_session_keys(sender_private_key, sender_nonce, requester_public_key, requester_nonce);
  std::string out(encrypted_size(plaintext.size()), '\0');
  encrypt_into(keys, plaintext, out.data());
  return out;
}

std::string decrypt(std::string_view ciphertext, std::string_view requester_private_key,
                    std::string_view requester_nonce, std::string_view sender_public_key,
                    std::string_view sender_nonce) {
  const Scalar own = parse_private_key(requester_private_key, "requester_private_key");
  const Nonce own_nonce = parse_nonce(requester_nonce, "requester_nonce");
  const Point peer = parse_public_key(sender_public_key, "sender_public_key");
  const Nonce peer_nonce = parse_nonce(sender_nonce, "sender_nonce");
  const SessionKeys keys = agree_session_keys(own, peer, peer_nonce, own_nonce);
  return open_base64(keys, ciphertext, "ciphertext");
}

}  // namespace abdm::crypto
