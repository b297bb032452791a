#include "core/crypto/openssl_util.hpp"

#include <openssl/err.h>

#include <new>
#include <string>

#include "core/util/error.hpp"

namespace abdm::crypto {

BnPtr new_bn() {
  BIGNUM* b = BN_new();
  if (b == nullptr) throw std::bad_alloc();
  return BnPtr(b);
}

BnCtxPtr new_bn_ctx() {
  BN_CTX* c = BN_CTX_secure_new();
  if (c == nullptr) throw std::bad_alloc();
  return BnCtxPtr(c);
}

void throw_openssl(const char* what) {
  std::string message = std::string("OpenSSL ") + what + " failed";
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    message += ": ";
    message += reason;
  }
  ERR_clear_error();
  throw Error(sqlstate::kInternal, "", message);
}

void clear_openssl_errors() { ERR_clear_error(); }

}  // namespace abdm::crypto
