#include "core/net/retry_policy.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/util/error.hpp"

namespace abdm::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Result http(long status, std::string body = "") {
  Result r;
  r.http_status = status;
  r.body = std::move(body);
  return r;
}

Result transport(int curl_code, std::string msg) {
  Result r;
  r.curl_code = curl_code;
  r.curl_error = std::move(msg);
  return r;
}

TEST(Classify, TwoXxWithoutEnvelopeIsSuccess) {
  EXPECT_EQ(classify(http(202)).verdict, Verdict::kSuccess);
  EXPECT_EQ(classify(http(200, R"({"ok":true})")).verdict, Verdict::kSuccess);
  EXPECT_EQ(classify(http(204)).verdict, Verdict::kSuccess);
}

TEST(Classify, TwoHundredWithErrorEnvelopeIsFailure) {
  const auto c = classify(http(200, R"([{"error":{"code":"2500","message":"Provided facility name is not matched"}}])"));
  EXPECT_EQ(c.verdict, Verdict::kPermanent);
  EXPECT_EQ(c.error_code, "2500");
  EXPECT_NE(c.reason.find("HTTP 200 with an error body"), std::string::npos);
  EXPECT_NE(c.reason.find("Provided facility name is not matched"), std::string::npos);
}

TEST(Classify, ServerErrorsAndThrottlingAreRetryable) {
  EXPECT_EQ(classify(http(500)).verdict, Verdict::kRetryable);
  EXPECT_EQ(classify(http(502, "<html>bad gateway</html>")).verdict, Verdict::kRetryable);
  EXPECT_EQ(classify(http(503)).verdict, Verdict::kRetryable);
  EXPECT_EQ(classify(http(408)).verdict, Verdict::kRetryable);
  Result r = http(429);
  r.headers.push_back({"Retry-After", "7"});
  const auto c = classify(r);
  EXPECT_EQ(c.verdict, Verdict::kRetryable);
  EXPECT_EQ(c.retry_after, seconds(7));
}

TEST(Classify, TooManyRequestsIsRetryableAndAThrottleWhateverTheStatus) {
  EXPECT_TRUE(classify(http(429)).throttled);
  EXPECT_FALSE(classify(http(503)).throttled);
  for (long status : {200L, 400L, 429L}) {
    const auto c = classify(http(status, R"({"error":{"code":"ABDM-1022: ","message":"Too many requests"}})"));
    EXPECT_EQ(c.verdict, Verdict::kRetryable) << status;
    EXPECT_TRUE(c.throttled) << status;
    EXPECT_EQ(c.error_code, "ABDM-1022");
  }
  // Another 4xx code is still final, and no throttle.
  const auto other = classify(http(400, R"({"error":{"code":"ABDM-1092","message":"duplicate"}})"));
  EXPECT_EQ(other.verdict, Verdict::kPermanent);
  EXPECT_FALSE(other.throttled);
  // The decision carries it to the caller, and retries (not fails) before the last attempt.
  const Decision d = decide(classify(http(400, R"({"error":{"code":"ABDM-1022"}})")), 1, 0, BackoffPolicy{}, 7);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_TRUE(d.throttled);
}

TEST(Classify, RetryAfterAsHttpDate) {
  Result r = http(503);
  r.headers.push_back({"Retry-After", "Wed, 21 Oct 2099 07:28:00 GMT"});
  EXPECT_GT(classify(r).retry_after, std::chrono::hours(24 * 365));
  r.headers[0].value = "Wed, 21 Oct 2015 07:28:00 GMT";  // in the past: no wait
  EXPECT_EQ(classify(r).retry_after, milliseconds(0));
  r.headers[0].value = "soon";
  EXPECT_EQ(classify(r).retry_after, milliseconds(0));
}

TEST(Classify, ClientErrorsArePermanentWithBodyKept) {
  const auto c = classify(http(400, R"({"error":{"code":"ABDM-1030","message":"Invalid request ID"}})"));
  EXPECT_EQ(c.verdict, Verdict::kPermanent);
  EXPECT_EQ(c.error_code, "ABDM-1030");
  EXPECT_EQ(c.reason, "HTTP 400: ABDM-1030 Invalid request ID");
  const auto plain = classify(http(404, "no such path"));
  EXPECT_EQ(plain.verdict, Verdict::kPermanent);
  EXPECT_EQ(plain.reason, "HTTP 404: no such path");
  EXPECT_EQ(classify(http(403, "Access Denied")).verdict, Verdict::kPermanent);
  EXPECT_EQ(classify(http(302)).verdict, Verdict::kPermanent);
}

TEST(Classify, AuthOn401Or900901) {
  EXPECT_EQ(classify(http(401)).verdict, Verdict::kAuth);
  const auto c = classify(http(403, R"({"fault":{"code":900901,"message":"Invalid Credentials"}})"));
  EXPECT_EQ(c.verdict, Verdict::kAuth);
  EXPECT_EQ(c.error_code, "900901");
  EXPECT_EQ(classify(http(200, R"({"code":"900901","message":"Invalid Credentials"})")).verdict, Verdict::kAuth);
}

TEST(Classify, TransportErrors) {
  EXPECT_EQ(classify(transport(28, "Operation timed out")).verdict, Verdict::kRetryable);
  EXPECT_EQ(classify(transport(7, "Failed to connect")).verdict, Verdict::kRetryable);
  EXPECT_EQ(classify(transport(56, "Recv failure")).verdict, Verdict::kRetryable);
  EXPECT_EQ(classify(transport(3, "URL malformed")).verdict, Verdict::kPermanent);
  Result big = transport(23, "x");
  big.too_large = true;
  EXPECT_EQ(classify(big).verdict, Verdict::kPermanent);
  EXPECT_EQ(classify(transport(28, "Operation timed out")).reason, "curl 28: Operation timed out");
}

TEST(Classify, RedactedBodyNeverInReason) {
  Result r = http(400, R"({"error":{"code":"ABDM-1001","message":"secret s3cr3t"}})");
  r.redact = true;
  const auto c = classify(r);
  EXPECT_EQ(c.verdict, Verdict::kPermanent);
  EXPECT_EQ(c.reason.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(c.reason, "HTTP 400 (body redacted): ABDM-1001");
}

TEST(Classify, ReasonIsCutAndOneLine) {
  const auto c = classify(http(400, std::string(5000, 'a') + "\nb"), 100);
  EXPECT_LE(c.reason.size(), 100 + 3u);  // plus the UTF-8 ellipsis
  EXPECT_EQ(c.reason.find('\n'), std::string::npos);
}

TEST(Backoff, BoundsPerAttempt) {
  const BackoffPolicy p{milliseconds(100), milliseconds(10000), 30};
  std::mt19937_64 rng(42);
  for (int attempt = 1; attempt <= 70; ++attempt) {
    const long long ceiling = attempt > 20 ? 10000 : std::min<long long>(10000, 100LL << (attempt - 1));
    EXPECT_EQ(backoff_delay(p, attempt, 0).count(), 0);
    EXPECT_EQ(backoff_delay(p, attempt, static_cast<std::uint64_t>(ceiling)).count(), ceiling);
    for (int i = 0; i < 200; ++i) {
      const auto d = backoff_delay(p, attempt, rng()).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling) << "attempt " << attempt;
    }
  }
}

TEST(Backoff, FullJitterIsUniform) {
  // attempt 4: uniform on [0, 800] ms; 20000 draws in 10 bins, each expected 2000.
  const BackoffPolicy p{milliseconds(100), milliseconds(60000), 30};
  std::mt19937_64 rng(7);
  int bins[10] = {};
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const auto d = backoff_delay(p, 4, rng()).count();
    sum += static_cast<double>(d);
    bins[std::min<long long>(9, d * 10 / 801)]++;
  }
  EXPECT_NEAR(sum / n, 400.0, 12.0);
  double chi2 = 0;
  for (int b : bins) chi2 += (b - 2000.0) * (b - 2000.0) / 2000.0;
  EXPECT_LT(chi2, 27.9);  // 9 degrees of freedom, p = 0.001
}

TEST(Backoff, RejectsBadPolicy) {
  EXPECT_THROW(backoff_delay({milliseconds(0), milliseconds(10), 3}, 1, 0), Error);
  EXPECT_THROW(backoff_delay({milliseconds(100), milliseconds(10), 3}, 1, 0), Error);
  EXPECT_THROW(backoff_delay({milliseconds(100), milliseconds(1000), 0}, 1, 0), Error);
  EXPECT_THROW(backoff_delay({milliseconds(100), milliseconds(1000), 3}, 0, 0), Error);
}

TEST(Decide, RetryThenGiveUp) {
  const BackoffPolicy p{milliseconds(1000), milliseconds(60000), 3};
  const auto c = classify(http(503, "busy"));
  auto d = decide(c, 1, 0, p, 999);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, milliseconds(999));
  EXPECT_EQ(d.reason, "HTTP 503: busy");
  d = decide(c, 2, 0, p, 5000);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_LE(d.delay, milliseconds(2000));
  d = decide(c, 3, 0, p, 5000);
  EXPECT_EQ(d.action, Action::kFail);
  EXPECT_EQ(d.reason, "gave up after 3 attempts: HTTP 503: busy");
}

TEST(Decide, RetryAfterIsAFloorCappedByPolicy) {
  const BackoffPolicy p{milliseconds(100), milliseconds(30000), 5};
  Result r = http(429);
  r.headers.push_back({"Retry-After", "7"});
  EXPECT_EQ(decide(classify(r), 1, 0, p, 0).delay, seconds(7));
  r.headers[0].value = "3600";
  EXPECT_EQ(decide(classify(r), 1, 0, p, 0).delay, seconds(30));
}

TEST(Decide, AuthRenewsOnceThenRetriesLaterWithinMaxAttempts) {
  const BackoffPolicy p;  // 10 attempts
  const auto c = classify(http(401));
  EXPECT_EQ(decide(c, 1, 0, p, 0).action, Action::kRenewSessionAndRetry);
  EXPECT_EQ(decide(c, 10, 0, p, 0).action, Action::kRenewSessionAndRetry);
  // Refused again with the fresh session: a later attempt, with back-off, not at once.
  const auto d = decide(c, 2, 1, p, 5000);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, backoff_delay(p, 2, 5000));
  EXPECT_EQ(d.reason, "still refused after a session renewal: HTTP 401");
  // The last attempt refused twice: failed.
  const auto last = decide(c, 10, 1, p, 0);
  EXPECT_EQ(last.action, Action::kFail);
  EXPECT_EQ(last.reason, "gave up after 10 attempts, still refused after a session renewal: HTTP 401");
}

TEST(Decide, PermanentAndSuccess) {
  const BackoffPolicy p;
  const auto d = decide(classify(http(400, "bad body")), 1, 0, p, 0);
  EXPECT_EQ(d.action, Action::kFail);
  EXPECT_EQ(d.reason, "HTTP 400: bad body");
  EXPECT_EQ(decide(classify(http(202)), 1, 0, p, 0).action, Action::kDone);
  EXPECT_THROW(decide(classify(http(202)), 0, 0, p, 0), Error);
}

}  // namespace
}  // namespace abdm::net
