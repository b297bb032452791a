#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/abdm/data_push_writer.hpp"
#include "core/abdm/time.hpp"
#include "core/crypto/checksum.hpp"
#include "core/crypto/fidelius.hpp"
#include "core/util/error.hpp"

using namespace abdm::proto;
using nlohmann::json;
namespace crypto = abdm::crypto;

namespace {

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()) + ".json"))
      .string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Parties {
  crypto::KeyMaterial hiu = crypto::generate_key_material();
  crypto::KeyMaterial hip = crypto::generate_key_material();
  crypto::SessionKeys keys = crypto::sender_session_keys(hip.private_key, hip.nonce, hiu.public_key, hiu.nonce);
  PushKeyMaterial push_key() const {
    PushKeyMaterial k;
    k.expiry = parse_timestamp("2030-01-01T00:00:00.000Z", "expiry");
    k.key_value = hip.x509_public_key;
    k.nonce = hip.nonce;
    return k;
  }
};

}  // namespace

TEST(DataPushWriter, WritesTheEnvelopeWithEachEntryEncryptedForTheHiu) {
  const Parties p;
  const std::string path = temp_path("push-two");
  const std::string b1 = R"({"resourceType":"Bundle","id":"one"})";
  const std::string b2 = std::string(200000, 'x');  // a large bundle: one at a time in memory
  {
    DataPushWriter w(path, "a1b2c3d4-1111-4222-8333-444455556666", p.keys, p.push_key());
    w.add("OPD-1", b1);
    w.add("OPD-2", b2);
    w.finish();
    EXPECT_EQ(w.entries(), 2);
    const std::string text = read_file(path);
    EXPECT_EQ(text.size(), w.size());
    const json push = json::parse(text);
    // The envelope is the builder's, with the entries streamed into it.
    json expected = data_push("a1b2c3d4-1111-4222-8333-444455556666", 1, 1, {}, p.push_key());
    json entries = push["entries"];
    json without = push;
    without["entries"] = json::array();
    EXPECT_EQ(without, expected);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0]["careContextReference"], "OPD-1");
    EXPECT_EQ(entries[0]["checksum"], crypto::md5_base64(b1));
    EXPECT_EQ(entries[0]["media"], "application/fhir+json");
    EXPECT_EQ(crypto::decrypt(entries[0]["content"].get<std::string>(), p.hiu.private_key, p.hiu.nonce,
                              p.hip.x509_public_key, p.hip.nonce),
              b1);
    EXPECT_EQ(crypto::decrypt(entries[1]["content"].get<std::string>(), p.hiu.private_key, p.hiu.nonce,
                              p.hip.public_key, p.hip.nonce),
              b2);
  }
  EXPECT_FALSE(std::filesystem::exists(path)) << "the ciphertext file goes with the writer";
}

TEST(DataPushWriter, AnEmptyPushIsStillAWellFormedEnvelope) {
  const Parties p;
  const std::string path = temp_path("push-empty");
  DataPushWriter w(path, "a1b2c3d4-1111-4222-8333-444455556666", p.keys, p.push_key());
  w.finish();
  EXPECT_EQ(json::parse(read_file(path))["entries"], json::array());
  EXPECT_THROW(w.add("OPD-1", "{}"), abdm::Error) << "nothing after finish()";
}

TEST(DataPushWriter, InMemoryTheBodyIsTheSameAsInTheFile) {
  const Parties p;
  const std::string path = temp_path("push-file-vs-memory");
  DataPushWriter file(path, "a1b2c3d4-1111-4222-8333-444455556666", p.keys, p.push_key(), 2, 5);
  DataPushWriter memory("", "a1b2c3d4-1111-4222-8333-444455556666", p.keys, p.push_key(), 2, 5);
  for (DataPushWriter* w : {&file, &memory}) {
    w->add("OPD-1", R"({"resourceType":"Bundle","id":"one"})");
    w->add("OPD-2", std::string(5000, 'y'));
    w->finish();
  }
  EXPECT_TRUE(memory.in_memory());
  EXPECT_FALSE(file.in_memory());
  const std::string body = memory.take_body();
  EXPECT_EQ(body, read_file(path)) << "same keys, same bytes: only where they are kept differs";
  EXPECT_EQ(body.size(), memory.size());
  EXPECT_EQ(json::parse(body)["entries"].size(), 2u);
  EXPECT_THROW(memory.add("OPD-3", "{}"), abdm::Error) << "nothing after finish()";
}

TEST(DataPushWriter, AFileThatCannotBeMadeIsAnError) {
  const Parties p;
  EXPECT_THROW(DataPushWriter("/nonexistent-dir/x.json", "a1b2c3d4-1111-4222-8333-444455556666", p.keys, p.push_key()),
               abdm::Error);
}

TEST(DataPushWriter, APageCarriesItsNumberAndTheTransfersPageCount) {
  const Parties p;
  const std::string path = temp_path("push-page");
  DataPushWriter w(path, "a1b2c3d4-1111-4222-8333-444455556666", p.keys, p.push_key(), 3, 7);
  w.add("OPD-1", "{\"resourceType\":\"Bundle\"}");
  w.finish();
  const json body = json::parse(read_file(path));
  EXPECT_EQ(body["pageNumber"], 3);
  EXPECT_EQ(body["pageCount"], 7);
  EXPECT_EQ(body["entries"].size(), 1u);
}

TEST(DataPushWriter, APageNumberOutsideTheCountIsRefused) {
  const Parties p;
  EXPECT_THROW(DataPushWriter(temp_path("push-bad-page"), "a1b2c3d4-1111-4222-8333-444455556666", p.keys,
                              p.push_key(), 8, 7),
               abdm::Error);
}
