// Secrets at rest (core/crypto/sealed_secret, core/crypto/secret_key_file): a sealed value opens
// only with its key and its purpose, shows nothing of the plaintext, and fails by name; the key
// file is made once, 0600, and refused when others can read it or it holds the wrong length.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/crypto/secret_key_file.hpp"
#include "core/crypto/sealed_secret.hpp"
#include "crypto_test_support.hpp"

namespace abdm::crypto {
namespace {

using testing::expect_error;

SecretKey key_of(uint8_t fill) {
  std::array<uint8_t, 32> b{};
  b.fill(fill);
  return secret_key_from_bytes(b);
}

TEST(SealedSecret, OpensWithItsKeyAndPurpose) {
  const SecretKey k = key_of(7);
  const std::string sealed = seal_secret(k, "client_secret", "s3cret-s3cret");
  EXPECT_TRUE(looks_sealed(sealed));
  EXPECT_EQ(sealed.find("s3cret"), std::string::npos);
  EXPECT_EQ(sealed.rfind("abdm-sealed:1:client_secret:" + k.id + ":", 0), 0u) << sealed;
  EXPECT_EQ(open_secret(k, "client_secret", sealed, "value"), "s3cret-s3cret");
  EXPECT_EQ(open_secret(k, "otp", seal_secret(k, "otp", ""), "value"), "");
}

// Made with Python's cryptography (AESGCM), a second implementation of the form: key 32 bytes of
// 0x2a, nonce 12 bytes of 0x01, AAD "abdm-sealed:1:link_token:<key id>" (test/fuzz/make-corpus).
TEST(SealedSecret, OpensWhatAnotherImplementationSealed) {
  EXPECT_EQ(open_secret(key_of(0x2a), "link_token",
                        "abdm-sealed:1:link_token:544e62cee8033709:AQEBAQEBAQEBAQEBId/z4DxYwr9b3ZEnjcvHeZ5W+gJ0hUsmsI8Wq8DWuZu"
                        "zcoQyjD2dqeRS1ORY6UcQ+pytFJDSlXQp/D/N+s9WEFc4",
                        "x"),
            "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln");
}

TEST(SealedSecret, EachSealHasItsOwnNonce) {
  const SecretKey k = key_of(7);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(seal_secret(k, "otp", "123456"));
  EXPECT_EQ(seen.size(), 100u);
}

TEST(SealedSecret, KeyIdIsTheDigestNotTheKey) {
  const SecretKey a = key_of(1), b = key_of(2);
  EXPECT_EQ(a.id.size(), 16u);
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.id, key_of(1).id);
  EXPECT_EQ(a.id, "72cd6e8422c407fb");  // SHA-256 of 32 bytes of 0x01, first 8 bytes
}

TEST(SealedSecret, RefusesAnotherKeyByName) {
  const std::string sealed = seal_secret(key_of(1), "link_token", "eyJ.x.y");
  expect_error([&] { open_secret(key_of(2), "link_token", sealed, "X-LINK-TOKEN"); }, "22023", "X-LINK-TOKEN",
               "sealed under key " + key_of(1).id + ", but this server's key");
}

TEST(SealedSecret, RefusesAnotherPurpose) {
  const SecretKey k = key_of(1);
  const std::string sealed = seal_secret(k, "link_token", "eyJ.x.y");
  expect_error([&] { open_secret(k, "client_secret", sealed, "client_secret"); }, "22023", "client_secret",
               "sealed as 'link_token', not as 'client_secret'");
  // Rewriting the purpose in the text does not help: it is authenticated.
  std::string moved = sealed;
  moved.replace(std::string(kSealedPrefix).size(), std::string("link_token").size(), "otp");
  expect_error([&] { open_secret(k, "otp", moved, "otp"); }, "22000", "otp", "authentication failed");
}

TEST(SealedSecret, RefusesAChangedValue) {
  const SecretKey k = key_of(1);
  std::string sealed = seal_secret(k, "otp", "123456");
  char& c = sealed[sealed.size() - 6];
  c = c == 'A' ? 'B' : 'A';
  expect_error([&] { open_secret(k, "otp", sealed, "otp"); }, "22000", "otp", "authentication failed");
}

TEST(SealedSecret, RefusesClearTextAndBrokenForms) {
  const SecretKey k = key_of(1);
  expect_error([&] { open_secret(k, "client_secret", "s3cret-s3cret", "value"); }, "22P02", "value",
               "not a sealed value (stored in clear?)");
  expect_error([&] { open_secret(k, "otp", "abdm-sealed:1:otp", "value"); }, "22P02", "value", "parts are missing");
  expect_error([&] { open_secret(k, "otp", "abdm-sealed:1:otp:" + k.id + ":AAAA", "value"); }, "22023", "value",
               "too short");
  expect_error([&] { open_secret(k, "otp", "abdm-sealed:1:otp:" + k.id + ":!!!!", "value"); }, "22P02", "value", "");
  expect_error([&] { seal_secret(k, "Client-Secret", "x"); }, "22023", "purpose", "a-z and _");
}

class SecretKeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("abdm-key-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "abdm_hip_secret.key").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    ::chmod(path_.c_str(), mode);
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SecretKeyFile, IsCreatedOnceReadableByItsOwnerOnly) {
  bool created = false;
  const SecretKey a = read_or_create_secret_key_file(path_, &created);
  EXPECT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const SecretKey b = read_or_create_secret_key_file(path_, &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(read_secret_key_file(path_).id, a.id);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1) << "no temporary file left";
}

TEST_F(SecretKeyFile, ProcessesCreatingAtOnceShareOneKey) {
  // Four processes race to create it; every one must read the key that was linked first.
  int pipes[4][2];
  for (auto& p : pipes) ASSERT_EQ(::pipe(p), 0);
  for (int i = 0; i < 4; ++i) {
    if (::fork() == 0) {
      std::string id;
      try {
        id = read_or_create_secret_key_file(path_, nullptr).id;
      } catch (...) {
        id = "error";
      }
      (void)!::write(pipes[i][1], id.data(), id.size());
      ::_exit(0);
    }
  }
  std::set<std::string> ids;
  for (auto& p : pipes) {
    ::close(p[1]);
    char buf[64];
    const ssize_t n = ::read(p[0], buf, sizeof buf);
    ids.insert(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
    ::close(p[0]);
  }
  while (::wait(nullptr) > 0) {
  }
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(*ids.begin(), read_secret_key_file(path_).id);
}

TEST_F(SecretKeyFile, ReadsWhatOpensslRandMakes) {
  write("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", 0600);
  EXPECT_EQ(read_secret_key_file(path_).id, key_of(1).id);
  ::chmod(path_.c_str(), 0400);
  EXPECT_EQ(read_secret_key_file(path_).id, key_of(1).id);
}

TEST_F(SecretKeyFile, RefusesWhatIsWrong) {
  expect_error([&] { read_secret_key_file(path_); }, "F0000", "abdm_hip.secret_key_file", "missing");
  write("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", 0640);
  expect_error([&] { read_secret_key_file(path_); }, "F0000", "abdm_hip.secret_key_file", "open to group or others");
  write("AQEBAQEB\n", 0600);
  expect_error([&] { read_secret_key_file(path_); }, "F0000", "abdm_hip.secret_key_file", "holds 6 bytes, not 32");
  write("not base64 at all\n", 0600);
  expect_error([&] { read_secret_key_file(path_); }, "F0000", "abdm_hip.secret_key_file", "not one line of base64");
  std::filesystem::remove(path_);
  std::filesystem::create_directory(path_);
  expect_error([&] { read_secret_key_file(path_); }, "F0000", "abdm_hip.secret_key_file", "not a regular file");
}

}  // namespace
}  // namespace abdm::crypto
