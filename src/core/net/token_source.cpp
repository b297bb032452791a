#include "core/net/token_source.hpp"

#include <openssl/crypto.h>

namespace abdm::net {

void SessionTokenSource::configure(SessionConfig config) { session_.emplace(std::move(config)); }

std::optional<TokenInUse> SessionTokenSource::token(TimePoint now) {
  if (!session_ || !session_->has_token(now)) return std::nullopt;
  return TokenInUse{session_->access_token(), session_->generation()};
}

std::optional<Request> SessionTokenSource::renewal_request(std::int64_t id, TimePoint now) {
  if (!session_ || !session_->renewal_due(now)) return std::nullopt;
  return session_->build_renewal_request(id, now);
}

bool SessionTokenSource::on_renewal_result(Result& r, TimePoint now) {
  // A result for a session that has since been dropped (reset) carries a token nobody asked for.
  if (!session_) {
    if (!r.body.empty()) OPENSSL_cleanse(r.body.data(), r.body.size());
    r.body.clear();
    return false;
  }
  const bool ok = session_->on_renewal_result(r, now);
  if (listener_) listener_(ok ? Event::kEstablished : Event::kFailed, *session_);
  return ok;
}

void SessionTokenSource::invalidate(std::uint64_t generation) noexcept {
  if (session_) session_->invalidate(generation);
}

TokenSource::TimePoint SessionTokenSource::next_renewal_check(TimePoint now) const noexcept {
  return session_ ? session_->next_renewal_check(now) : TimePoint::max();
}

int SessionTokenSource::consecutive_failures() const noexcept {
  return session_ ? session_->consecutive_failures() : 0;
}

std::string SessionTokenSource::last_error() const { return session_ ? session_->last_error() : ""; }

std::optional<TokenInUse> CachedTokenSource::token(TimePoint /*now*/) {
  if (!current_.empty()) OPENSSL_cleanse(current_.data(), current_.size());
  current_ = read_();
  if (current_.empty()) return std::nullopt;
  return TokenInUse{current_, 0};
}

}  // namespace abdm::net
