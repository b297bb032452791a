#include "core/bridge/request_rules.hpp"

#include <gtest/gtest.h>

namespace abdm::bridge {
namespace {

std::vector<HttpHeader> with(std::initializer_list<HttpHeader> h) { return h; }

TEST(RequestHead, PostWithLengthPasses) {
  EXPECT_FALSE(check_request_head("POST", with({{"Host", "x"}, {"Content-Length", "12"}}), {}));
  EXPECT_FALSE(check_request_head("POST", with({{"Transfer-Encoding", "chunked"}}), {}));
}

TEST(RequestHead, SmugglingShapesAreRefusedAndClose) {
  for (auto headers : {with({{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}),
                       with({{"content-length", "5"}, {"Content-Length", "6"}}),
                       with({{"Content-Length", "5"}, {"Content-Length", "5"}}),
                       with({{"Transfer-Encoding", "gzip, chunked"}}),
                       with({{"Transfer-Encoding", "chunked"}, {"transfer-encoding", "chunked"}}),
                       with({{"Content-Length", "+5"}}), with({{"Content-Length", "5 5"}}),
                       with({{"Content-Length", "-1"}}), with({{"Content-Length", ""}}),
                       with({{"Content-Length", "99999999999999999999999"}}),
                       with({{"X-A", std::string("a\0b", 3)}}), with({{"X-A", "a\rb"}})}) {
    auto r = check_request_head("POST", headers, {});
    ASSERT_TRUE(r) << headers[0].name << ": " << headers[0].value;
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(r->close);
  }
}

TEST(RequestHead, DeclaredBodyOverTheLimitIs413) {
  RequestLimits limits;
  limits.max_body = 1000;
  EXPECT_FALSE(check_request_head("POST", with({{"Content-Length", "1000"}}), limits));
  auto r = check_request_head("POST", with({{"Content-Length", "1001"}}), limits);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(r->close);
  EXPECT_NE(r->message.find("abdm_hip.listen_max_body"), std::string::npos);
}

TEST(RequestHead, TooManyHeadersIs431) {
  RequestLimits limits;
  limits.max_headers = 3;
  std::vector<HttpHeader> h(3, HttpHeader{"X-A", "1"});
  EXPECT_FALSE(check_request_head("POST", h, limits));
  h.push_back({"X-B", "2"});
  auto r = check_request_head("POST", h, limits);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST(RequestHead, OnlyPost) {
  auto r = check_request_head("GET", {}, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_FALSE(r->close);
}

TEST(BodySize, ChunkedBodyPastTheLimit) {
  RequestLimits limits;
  limits.max_body = 10;
  EXPECT_FALSE(check_body_size(10, limits));
  auto r = check_body_size(11, limits);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(JsonBody, WhatJsonbCanHold) {
  EXPECT_FALSE(json_body_problem(R"({"a":"b","n":[1,2,{"c":null}]})"));
  EXPECT_FALSE(json_body_problem(R"({"a":"\ud83d\ude00"})"));  // a pair is fine
  for (std::string_view bad : {std::string_view(""), std::string_view("{"), std::string_view("{\"a\":}"),
                               std::string_view(R"({"a":"\ud800"})"), std::string_view(R"({"a":"\udc00x"})"),
                               std::string_view("{\"a\":\"\xff\"}"), std::string_view("{\"a\":\"\xc3\"}")}) {
    auto p = json_body_problem(bad);
    ASSERT_TRUE(p) << bad;
    EXPECT_EQ(p->rfind("body: not valid JSON", 0), 0u) << *p;
  }
  for (std::string_view nul : {std::string_view(R"({"a":"x\u0000y"})"), std::string_view(R"({"\u0000":1})"),
                               std::string_view(R"([[{"deep":["\u0000"]}]])")}) {
    auto p = json_body_problem(nul);
    ASSERT_TRUE(p) << nul;
    EXPECT_NE(p->find("U+0000"), std::string::npos);
  }
}

TEST(JsonBody, DeepNestingIsRefusedWithoutRecursion) {
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_FALSE(json_body_problem(ok));
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  auto p = json_body_problem(deep);
  ASSERT_TRUE(p);
  EXPECT_NE(p->find("nested deeper"), std::string::npos);
  // 200,000 levels: refused by the scan (a recursive walk would run out of stack).
  std::string huge = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_TRUE(json_body_problem(huge));
  // Brackets inside strings do not count; escaped quotes do not end a string.
  std::string in_string = "{\"a\":\"" + std::string(1000, '[') + "\\\"\"}";
  EXPECT_FALSE(json_body_problem(in_string)) << in_string.substr(0, 20);
  // A NUL deep inside (within the limit) is still found.
  std::string nul = std::string(60, '[') + "\"\\u0000\"" + std::string(60, ']');
  EXPECT_TRUE(json_body_problem(nul));
}

TEST(ErrorBody, GatewayShape) {
  auto j = nlohmann::json::parse(error_body("body: bad", "ABDM-9999"));
  EXPECT_EQ(j["error"]["code"], "ABDM-9999");
  EXPECT_EQ(j["error"]["message"], "body: bad");
  // Bytes that are not UTF-8 (from a header) still make a valid document.
  EXPECT_NO_THROW(nlohmann::json::parse(error_body("x-h: \xff")));
}

TEST(HeadersForReceive, WithoutAuthorizationFirstValueWins) {
  auto j = headers_for_receive(with({{"REQUEST-ID", "a"}, {"authorization", "Bearer t"},
                                     {"X-HIP-ID", "h1"}, {"x-hip-id", "h2"}}));
  EXPECT_EQ(j.size(), 2u);
  EXPECT_EQ(j["REQUEST-ID"], "a");
  EXPECT_EQ(j["X-HIP-ID"], "h1");
  EXPECT_EQ(j.dump().find("Bearer"), std::string::npos);
}

}  // namespace
}  // namespace abdm::bridge
