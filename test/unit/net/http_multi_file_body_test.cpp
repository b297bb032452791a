// A body streamed from a file (the transfer worker's data push) arrives byte for byte, and a
// missing file is refused before anything is sent.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

#include "core/net/http_multi.hpp"
#include "core/util/error.hpp"
#include "loopback_server.hpp"

using namespace abdm::net;

namespace {

std::string write_temp(const std::string& content) {
  char path[] = "/tmp/abdm_body_XXXXXX";
  int fd = mkstemp(path);
  FILE* f = fdopen(fd, "wb");
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  return path;
}

Result run(HttpMulti& m, Request r) {
  m.submit(std::move(r));
  for (int i = 0; i < 200; ++i) {
    auto done = m.poll(100);
    if (!done.empty()) return done.front();
  }
  ADD_FAILURE() << "no result";
  return {};
}

}  // namespace

TEST(HttpMultiFileBody, StreamsTheFileExactly) {
  abdm::net::testing::LoopbackServer server;
  HttpMulti m;
  std::string content(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 rng(7);
  for (char& c : content) c = static_cast<char>('a' + rng() % 26);
  std::string path = write_temp(content);
  Request r;
  r.id = 9;
  r.url = server.url("/ok");  // /echo would answer 3 MB, over the response cap
  r.body_file = path;
  r.body_file_size = content.size();
  r.headers = {{"Content-Type", "application/json"}};
  Result res = run(m, r);
  EXPECT_TRUE(res.transport_ok()) << res.curl_error;
  auto rec = server.recorded();
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0].method, "POST");
  EXPECT_EQ(rec[0].body.size(), content.size());
  EXPECT_TRUE(rec[0].body == content);
  EXPECT_EQ(rec[0].headers.count("expect"), 0u);
  std::remove(path.c_str());
}

TEST(HttpMultiFileBody, MissingFileIsRefused) {
  HttpMulti m;
  Request r;
  r.url = "http://127.0.0.1:9/never";
  r.body_file = "/nonexistent/abdm/body.json";
  EXPECT_THROW(m.submit(r), abdm::Error);
  EXPECT_EQ(m.in_flight(), 0u);
}
