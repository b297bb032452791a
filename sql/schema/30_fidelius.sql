-- Fidelius, the encryption ABDM prescribes for health data pushed from a HIP to a HIU (NHA ABDM
-- docs, "Encryption and Decryption — implementation guidelines"; compatible byte for byte with
-- mgrmtech/fidelius-cli). Implemented in src/core/crypto, exposed by src/pg/fidelius_sql.cpp.
-- All keys, nonces and ciphertexts are standard base64 text; public keys are accepted as the raw
-- 65-byte point or the 309-byte X.509 form. Errors name the offending argument.

CREATE OR REPLACE FUNCTION abdm_hip.fidelius_generate_key_material() RETURNS jsonb
LANGUAGE c VOLATILE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fidelius_generate_key_material';
COMMENT ON FUNCTION abdm_hip.fidelius_generate_key_material() IS
  'Fresh ephemeral Fidelius key material: {"privateKey", "publicKey" (raw 65-byte point), '
  '"x509PublicKey" (the form to send to HIUs), "nonce" (32 bytes)}, all base64.';

CREATE OR REPLACE FUNCTION abdm_hip.fidelius_encrypt(plaintext text, sender_private_key text, sender_nonce text,
                                          requester_public_key text, requester_nonce text) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fidelius_encrypt';
COMMENT ON FUNCTION abdm_hip.fidelius_encrypt(text, text, text, text, text) IS
  'base64(AES-256-GCM ciphertext || tag) of the UTF-8 plaintext, for the requester (HIU) public key '
  'and nonce, with the sender (HIP) private key and nonce: the "content" of a data-push entry.';

CREATE OR REPLACE FUNCTION abdm_hip.fidelius_decrypt(ciphertext text, requester_private_key text, requester_nonce text,
                                          sender_public_key text, sender_nonce text) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fidelius_decrypt';
COMMENT ON FUNCTION abdm_hip.fidelius_decrypt(text, text, text, text, text) IS
  'The plaintext of a Fidelius ciphertext, as a HIU recovers it; an error (never an empty string) '
  'when the key, a nonce or the data does not match.';

CREATE OR REPLACE FUNCTION abdm_hip.fidelius_checksum(plaintext text) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fidelius_checksum';
COMMENT ON FUNCTION abdm_hip.fidelius_checksum(text) IS
  'base64(MD5(UTF-8 bytes of plaintext)): the checksum of a data-push entry, computed over exactly '
  'the text that is encrypted.';
