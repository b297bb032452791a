#include "core/crypto/secret_key_file.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/util/base64.hpp"
#include "core/util/error.hpp"

namespace abdm::crypto {
namespace {

constexpr const char* kField = "abdm_hip.secret_key_file";
constexpr const char* kConfigFileError = "F0000";  // config_file_error

[[noreturn]] void refuse(const std::string& path, const std::string& problem) {
  throw Error(kConfigFileError, kField, path + ": " + problem);
}

std::string errno_text(int err) { return std::strerror(err); }

// Reads a small file whole through an open descriptor (its mode was checked on the same one).
std::string read_all(int fd, const std::string& path) {
  std::string text;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) refuse(path, "cannot read: " + errno_text(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > 4096) refuse(path, "too long for a key file (one line of base64 is expected)");
  }
  OPENSSL_cleanse(buf, sizeof buf);
  return text;
}

SecretKey parse(std::string text, const std::string& path) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::vector<uint8_t> bytes;
  try {
    bytes = base64_decode(text, kField);
  } catch (const Error&) {
    OPENSSL_cleanse(text.data(), text.size());
    refuse(path, "not one line of base64 (make one with: openssl rand -base64 32)");
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (bytes.size() != 32) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    refuse(path, "holds " + std::to_string(bytes.size()) + " bytes, not 32 (make one with: openssl rand -base64 32)");
  }
  SecretKey key = secret_key_from_bytes(std::span<const uint8_t, 32>(bytes.data(), 32));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

// Writes a new key under a temporary name in the same directory and links it into place; EEXIST
// from link() means another process was first, and its file is the key.
void create(const std::string& path) {
  uint8_t raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw_openssl("RAND_bytes");
  std::string text = base64_encode(std::span<const uint8_t>(raw, sizeof raw)) + "\n";
  OPENSSL_cleanse(raw, sizeof raw);
  const std::string tmp = path + ".new." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    OPENSSL_cleanse(text.data(), text.size());
    refuse(tmp, "cannot create: " + errno_text(errno));
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int write_err = errno;
  OPENSSL_cleanse(text.data(), text.size());
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    refuse(tmp, "cannot write: " + errno_text(write_err));
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && link_err != EEXIST) refuse(path, "cannot create: " + errno_text(link_err));
  // The directory entry survives a crash (best effort: a failure here loses nothing yet).
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

SecretKey read_secret_key_file(const std::string& path) {
  if (path.empty()) refuse(path, "no file named");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT)
    refuse(path, "missing: values sealed under it cannot be opened (copy the key file from the primary, "
                 "or set the secrets again)");
  if (fd < 0) refuse(path, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    refuse(path, "not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    refuse(path, "open to group or others; it must be readable by the server's OS user only (chmod 600)");
  }
  std::string text = read_all(fd, path);
  ::close(fd);
  return parse(std::move(text), path);
}

SecretKey read_or_create_secret_key_file(const std::string& path, bool* created) {
  if (created) *created = false;
  struct stat st {};
  if (!path.empty() && ::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    create(path);
    if (created) *created = true;  // (or another process linked its own first: either way, new)
  }
  return read_secret_key_file(path);
}

}  // namespace abdm::crypto
