// The transfer worker ("abdm_hip transfer"): for each acknowledged health-information request,
// sends exactly the consented records, encrypted for the HIU, to its dataPushUrl, then queues the
// transfer notification (NHA M2 v2.8 §6.3.5–§6.3.6; abdm-docs "Transfer health data").
//
//  1. claim a due request (FOR UPDATE SKIP LOCKED, a lease) and check its consent again;
//  2. list the records — consented care contexts ∩ requested date range ∩ consented HI types —
//     then read them one by one, each in a short transaction: serialise each bundle once, checksum base64(MD5) those exact bytes,
//     encrypt them with one fresh Fidelius key pair and nonce for the whole request, and write the
//     entry into a spool file, so memory holds one bundle at a time whatever the transfer's size;
//  3. check the consent once more (a revocation during packaging stops the push), then POST the
//     spool file once (pageCount 1: the reference HIU refuses more, ProjectEKA
//     health-information-user DataFlowController.java);
//  4. record per care context DELIVERED / ERRORED and queue health-information/notify; a push that
//     keeps failing is retried with backoff inside the 20-minute window, then notified FAILED.
// A delivery, once recorded, is never pushed again (a restart re-runs only unconfirmed work).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
}

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/abdm/data_push_writer.hpp"
#include "core/abdm/outbound.hpp"
#include "core/abdm/time.hpp"
#include "core/crypto/fidelius.hpp"
#include "core/net/delivery.hpp"
#include "core/net/token_source.hpp"
#include "core/net/v3_headers.hpp"
#include "pg/gucs.hpp"
#include "pg/spi.hpp"
#include "pg/worker.hpp"

namespace abdm_pg {
namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;
namespace net = abdm::net;
namespace proto = abdm::proto;
namespace crypto = abdm::crypto;

constexpr auto kPushWindow = std::chrono::minutes(20);  // abdm-docs transfer-health-data.md

struct Claimed {
  std::string hip_id, transaction_id, consent_id, push_url;
  json key_material;
  int attempts = 0;
  Clock::time_point received_at;
};

struct CareContextTally {
  int entries = 0;
  long long bytes = 0;
};

constexpr const char* kClaimSql = R"SQL(
WITH due AS (
  SELECT hip_id, transaction_id FROM abdm_hip.hi_request
  WHERE status IN ('acknowledged', 'transferring') AND next_attempt_at <= now()
    AND (lease_until IS NULL OR lease_until < now())
  ORDER BY next_attempt_at
  LIMIT 1
  FOR UPDATE SKIP LOCKED)
UPDATE abdm_hip.hi_request r
   SET status = 'transferring', lease_until = now() + interval '10 minutes', attempts = r.attempts + 1
  FROM due
 WHERE r.hip_id = due.hip_id AND r.transaction_id = due.transaction_id
RETURNING r.hip_id, r.transaction_id, r.consent_id, r.data_push_url, r.key_material, r.attempts,
          extract(epoch FROM r.received_at)
)SQL";

// The rules (which records may leave, whether the consent still allows it) live in SQL and the
// core: abdm_hip_internal.transfer_records, abdm_hip_internal.transfer_consent_problem (sql/schema/85_hi_request.sql).
constexpr const char* kConsentProblemSql = "SELECT abdm_hip_internal.transfer_consent_problem($1, $2::uuid)";
constexpr const char* kRecordIdsSql =
    "SELECT id, care_context_ref, stored_bytes FROM abdm_hip_internal.transfer_records($1, $2::uuid)";
constexpr const char* kBundlesSql =
    "SELECT id, bundle::text FROM abdm_hip.health_record WHERE hip_id = $1 AND id = ANY ($2::bigint[])";
// One read takes records in list order until this many stored bytes (or kReadRecords records):
// few transactions for many small bundles, one bundle at a time when they are large.
constexpr long long kReadBytes = 1 << 20;
constexpr std::size_t kReadRecords = 16;

// Spool files live in the data directory: private to the server's OS user, on the server's disk.
constexpr const char* kSpoolPrefix = "pg_abdm_push_";

class Transfer final : public WorkerTurn {
 public:
  // Handles at most one request; returns whether one was found.
  bool turn(bool /*woken*/) override {
    std::optional<Claimed> job = claim();
    if (!job) return false;
    run(*job);
    return true;
  }

 private:
  std::optional<Claimed> claim() {
    std::vector<SqlRow> rows;
    in_transaction("abdm_hip transfer: claim", [&] { rows = spi_query(kClaimSql); });
    if (rows.empty()) return std::nullopt;
    const SqlRow& r = rows[0];
    Claimed c;
    c.hip_id = *r[0];
    c.transaction_id = *r[1];
    c.consent_id = *r[2];
    c.push_url = *r[3];
    c.key_material = json::parse(*r[4]);
    c.attempts = std::stoi(*r[5]);
    c.received_at = Clock::time_point(std::chrono::microseconds(
        static_cast<long long>(std::stod(*r[6]) * 1e6)));
    return c;
  }

  std::string consent_problem(const Claimed& c) {
    std::string problem;
    in_transaction("abdm_hip transfer: check consent", [&] {
      auto rows = spi_query_kept(kConsentProblemSql, {c.hip_id, c.transaction_id}, true);
      problem = rows.empty() ? "request no longer known" : rows[0][0].value_or("");
    });
    return problem;
  }

  void run(const Claimed& c) {
    std::string problem = consent_problem(c);
    if (!problem.empty()) {
      finish(c, false, problem, {});
      return;
    }
    // One fresh key pair and nonce per request (API: ephemeral keys; reuse would let two
    // requests share an AES key).
    crypto::KeyMaterial ours = crypto::generate_key_material();
    const json& km = c.key_material;
    crypto::SessionKeys keys = crypto::sender_session_keys(
        ours.private_key, ours.nonce, km.at("dhPublicKey").at("keyValue").get<std::string>(),
        km.at("nonce").get<std::string>());

    proto::PushKeyMaterial pk;
    pk.expiry = std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now() + std::chrono::hours(24));
    pk.key_value = ours.x509_public_key;  // X.509: the reference HIU parses only that (API §11.4)
    pk.nonce = ours.nonce;
    proto::DataPushWriter spool(std::string(DataDir) + "/" + kSpoolPrefix + c.transaction_id + ".json",
                                c.transaction_id, keys, pk);
    std::map<std::string, CareContextTally> tally;
    // The ids first (small), then the bundles in short transactions: a bundle can be megabytes
    // (scanned reports), memory holds at most one read (a few small bundles or one large one),
    // and no transaction (nor its snapshot) stays open while the worker encrypts and writes.
    std::vector<SqlRow> records;
    in_transaction("abdm_hip transfer: list records", [&] {
      records = spi_query_kept(kRecordIdsSql, {c.hip_id, c.transaction_id}, true);
    });
    for (std::size_t first = 0; first < records.size();) {
      // The next read: consecutive records up to kReadBytes stored (at least one).
      std::size_t end = first;
      long long bytes = 0;
      std::string ids = "{";
      while (end < records.size() && end - first < kReadRecords) {
        const long long size = std::stoll(records[end][2].value_or("0"));
        if (end > first && bytes + size > kReadBytes) break;
        bytes += size;
        ids += (end > first ? "," : "") + *records[end][0];
        ++end;
      }
      ids += "}";
      std::map<std::string, std::string> bundles;  // id → bundle text
      in_transaction("abdm_hip transfer: read records", [&] {
        for (SqlRow& row : spi_query_kept(kBundlesSql, {c.hip_id, ids}, true))
          if (row[1]) bundles.emplace(*row[0], std::move(*row[1]));
      });
      // Outside any transaction, in list order; a record the HMIS deleted meanwhile is left out.
      for (std::size_t i = first; i < end; ++i) {
        auto it = bundles.find(*records[i][0]);
        if (it == bundles.end()) continue;
        const std::string& ref = *records[i][1];
        spool.add(ref, it->second);  // serialised once: these exact bytes are hashed and sent
        CareContextTally& t = tally[ref];
        t.entries++;
        t.bytes += static_cast<long long>(it->second.size());
        bundles.erase(it);  // memory back as soon as the entry is written
      }
      first = end;
    }
    spool.finish();

    // A revocation or expiry while packaging stops the push.
    problem = consent_problem(c);
    if (!problem.empty()) {
      finish(c, false, problem, {});
      return;
    }
    const net::Outcome pushed = push(c, spool.path(), spool.size());
    switch (pushed.kind) {
      case net::OutcomeKind::kSent:
        finish(c, true, "", tally);
        return;
      case net::OutcomeKind::kRetry:
      case net::OutcomeKind::kDefer:
        in_transaction("abdm_hip transfer: retry later", [&] {
          spi_exec(
              "UPDATE abdm_hip.hi_request SET lease_until = NULL, error = $3, "
              "next_attempt_at = now() + make_interval(secs => $4::float8 / 1000) "
              "WHERE hip_id = $1 AND transaction_id = $2::uuid",
              {c.hip_id, c.transaction_id, "push: " + pushed.reason, std::to_string(pushed.delay.count())});
        });
        return;
      case net::OutcomeKind::kFailed:
        break;
    }
    finish(c, false, "push to the HIU failed: " + pushed.reason, {});
  }

  // The push, through the delivery engine. A push that can get better (5xx, 408, 429, a transport
  // failure, a refused token the sender will renew) is retried by a later claim after the backoff
  // (2 s doubling to 2 min), but only while that attempt would still fall inside the 20-minute
  // window (the deadline); other 4xx fail at once.
  net::Outcome push(const Claimed& c, const std::string& file, std::uint64_t size) {
    net::Delivery d;
    d.id = 1;
    d.owner = c.hip_id;
    d.url = c.push_url;
    d.body_file = file;
    d.body_file_size = size;
    d.style = net::HeaderStyle::kDataPush;
    d.request_id = net::new_request_id();
    d.cm_id = abdm_cm_id;
    d.hip_id = c.hip_id;
    d.attempts_made = c.attempts;
    d.timeout_ms = std::max(abdm_http_timeout_ms, 60000);
    d.ca_file = abdm_ca_file ? abdm_ca_file : "";
    d.verify_tls = abdm_verify_tls;
    d.backoff = {std::chrono::seconds(2), std::chrono::minutes(2), std::numeric_limits<int>::max()};
    d.deadline = c.received_at + kPushWindow;
    engine_.submit(std::move(d));
    for (;;) {
      std::vector<net::Outcome> done = engine_.poll(100);
      if (!done.empty()) return std::move(done.front());
      if (worker_should_stop()) engine_.abort_all();
    }
  }

  // Records the end of a request and queues the notification, in one transaction.
  void finish(const Claimed& c, bool transferred, const std::string& reason,
              const std::map<std::string, CareContextTally>& tally) {
    in_transaction("abdm_hip transfer: finish", [&] {
      json delivered = json::object();
      for (const auto& [ref, t] : tally) delivered[ref] = {{"entries", t.entries}, {"bytes", t.bytes}};
      spi_query("SELECT abdm_hip_internal.transfer_finished($1, $2::uuid, $3::boolean, $4, $5::jsonb)",
                {c.hip_id, c.transaction_id, transferred ? "true" : "false",
                 reason.empty() ? SqlValue() : SqlValue(reason), delivered.dump()});
    });
  }

  // The token the sender published in shared memory, read afresh for each push; never renewed here.
  net::CachedTokenSource tokens_{[] { return load_cached_token().token; }};
  net::DeliveryEngine engine_{tokens_};
};

// A push spooled by a worker that died (a crash, SIGKILL, the postmaster going away) is never
// resumed: its request's lease ends and it is packaged afresh from the records. So every spool
// file found at start-up (there is one transfer worker) is an orphan holding ciphertext.
void remove_orphaned_spools() {
  namespace fs = std::filesystem;
  int removed = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(DataDir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(kSpoolPrefix) && name.ends_with(".json") && e.is_regular_file()) {
      std::error_code ec;
      if (fs::remove(e.path(), ec)) ++removed;
    }
  }
  if (removed > 0) log_line("abdm_hip transfer: removed " + std::to_string(removed) + " orphaned spool file(s)");
}


std::unique_ptr<WorkerTurn> start_transfer() {
  require_extension();
  remove_orphaned_spools();
  release_orphaned_leases("abdm_hip transfer",
                          "UPDATE abdm_hip.hi_request SET next_attempt_at = now(), lease_until = NULL "
                          "WHERE status = 'transferring' AND lease_until IS NOT NULL",
                          "request(s) under way");
  return std::make_unique<Transfer>();
}

}  // namespace
}  // namespace abdm_pg

extern "C" {
PGDLLEXPORT void abdm_transfer_main(Datum) noexcept;
}

void abdm_transfer_main(Datum) noexcept {
  // Bundles are megabytes: give each large buffer its own mapping, returned to the system when
  // freed, instead of letting glibc's adaptive threshold keep them in the heap (the worker's
  // memory then stays at one bundle's worth, whatever the transfer's size).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  abdm_pg::run_worker(abdm_pg::WorkerKind::kTransfer, "abdm_hip transfer", abdm_pg::start_transfer);
}
