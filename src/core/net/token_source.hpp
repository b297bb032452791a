// Where the delivery engine (core/net/delivery) gets the gateway access token it sends, so that one
// engine serves both workers: the sender owns the gateway session and renews it through the
// engine's own HttpMulti (SessionTokenSource), the transfer worker only reads the token the sender
// published (CachedTokenSource) and never renews it.
//
// Why an interface and not a GatewaySession: the engine must not know who owns the session, and a
// worker that only borrows the token must not start sessions of its own (one session per bridge:
// docs/design-notes.md, "Sessions are shared through shared memory").
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/net/gateway_session.hpp"
#include "core/net/http_multi.hpp"

namespace abdm::net {

// A token to send now. `value` stays valid until the source is next asked or fed a result.
struct TokenInUse {
  std::string_view value;
  std::uint64_t generation = 0;  // which token it is, for invalidate()
};

class TokenSource {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  virtual ~TokenSource() = default;

  // The token to send now, or nullopt while there is none.
  virtual std::optional<TokenInUse> token(TimePoint now) = 0;
  // Whether this source obtains tokens itself. Only then is a refused token (401/900901) renewed
  // and the call retried once; a source that borrows the token cannot renew it, so for it a
  // refusal is a transient failure (the owner renews, a later attempt reads the new token).
  virtual bool renews() const noexcept { return false; }
  // A renewal request to send now (the engine submits it under the id given), or nullopt when
  // none is due. Asked only while some delivery waits for a token.
  virtual std::optional<Request> renewal_request(std::int64_t /*id*/, TimePoint /*now*/) { return std::nullopt; }
  // The result of that request; true when a new token was adopted.
  virtual bool on_renewal_result(Result& /*r*/, TimePoint /*now*/) { return false; }
  // A call sent with the token of `generation` was refused: drop that token.
  virtual void invalidate(std::uint64_t /*generation*/) noexcept {}
  // When a renewal may next be due (the engine's wait ends then); max() = not before a result.
  virtual TimePoint next_renewal_check(TimePoint /*now*/) const noexcept { return TimePoint::max(); }
  // Renewals failed in a row since the last success, and the last one's reason (never a secret).
  virtual int consecutive_failures() const noexcept { return 0; }
  virtual std::string last_error() const { return {}; }
};

// The sender's source: the gateway session (core/net/gateway_session), configured by the caller,
// renewed through the engine. It tells the caller about each renewal through the listener, so
// the caller can log it and publish the token (the transfer worker reads it from there).
class SessionTokenSource final : public TokenSource {
 public:
  enum class Event { kEstablished, kFailed };
  using Listener = std::function<void(Event, const GatewaySession&)>;

  explicit SessionTokenSource(Listener listener = {}) : listener_(std::move(listener)) {}

  // Starts a new session with this configuration (the old token is dropped). Throws abdm::Error
  // for a configuration GatewaySession refuses.
  void configure(SessionConfig config);
  // No session: nothing is sent with the token of an earlier configuration.
  void reset() noexcept { session_.reset(); }
  bool configured() const noexcept { return session_.has_value(); }
  const GatewaySession* session() const noexcept { return session_ ? &*session_ : nullptr; }

  std::optional<TokenInUse> token(TimePoint now) override;
  bool renews() const noexcept override { return true; }
  std::optional<Request> renewal_request(std::int64_t id, TimePoint now) override;
  bool on_renewal_result(Result& r, TimePoint now) override;
  void invalidate(std::uint64_t generation) noexcept override;
  TimePoint next_renewal_check(TimePoint now) const noexcept override;
  int consecutive_failures() const noexcept override;
  std::string last_error() const override;

 private:
  Listener listener_;
  std::optional<GatewaySession> session_;
};

// The transfer worker's source: whatever token `read` returns ("" = none), read afresh each time
// it is asked, never renewed here.
class CachedTokenSource final : public TokenSource {
 public:
  explicit CachedTokenSource(std::function<std::string()> read) : read_(std::move(read)) {}
  std::optional<TokenInUse> token(TimePoint now) override;

 private:
  std::function<std::string()> read_;
  std::string current_;
};

}  // namespace abdm::net
