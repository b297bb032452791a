// The transfer worker ("abdm_hip transfer"): for each acknowledged health-information request,
// sends exactly the consented records, encrypted for the HIU, to its dataPushUrl in pages, then
// queues the transfer notification (NHA M2 v2.8 §6.3.5–§6.3.6; abdm-docs "Transfer health data").
//
//  1. plan: an acknowledged request's consent is checked again and its records listed
//     (consented care contexts ∩ requested date range ∩ consented HI types); the core splits them
//     into pages (core/abdm/push_pages: abdm_hip.push_entries_per_page, push_page_max_size) and the
//     plan is stored (abdm_hip.transfer_page), all in one short transaction;
//  2. push: due pages, oldest request first, up to abdm_hip.transfer_concurrency in flight at once
//     across requests, in one libcurl multi. Each page is packaged when claimed: its records read
//     in short transactions (a few small ones or one large one per read), each serialised once,
//     checksummed base64(MD5) on those exact bytes and encrypted with the page's OWN fresh Fidelius
//     key pair and nonce into a spool file, so memory holds one read whatever the transfer's size
//     and no (AES key, IV) pair serves two pages. The consent is checked once more before the push
//     (a revocation stops the pages not yet pushed);
//  3. record: a pushed page is never pushed again; a page that can get better is retried with
//     backoff inside the 20-minute window, on its own; when every page has an outcome, per care
//     context DELIVERED / ERRORED and one health-information/notify (sql/schema/86_transfer_pages.sql).
// A restart re-runs only unconfirmed pages.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
}

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/abdm/data_push_writer.hpp"
#include "core/abdm/outbound.hpp"
#include "core/abdm/push_pages.hpp"
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
constexpr int kPageLeaseSeconds = 600;                  // longer than any push (60 s timeout, 2 min backoff)
constexpr int kPlanBatch = 16;                          // requests planned per transaction

// The rules (which records may leave, whether the consent still allows it) live in SQL and the
// core: abdm_hip_internal.transfer_records, transfer_consent_problem (sql/schema/85_hi_request.sql);
// the page state in sql/schema/86_transfer_pages.sql.
constexpr const char* kClaimUnplannedSql = "SELECT * FROM abdm_hip_internal.transfer_claim_unplanned($1::int)";
constexpr const char* kConsentProblemSql = "SELECT abdm_hip_internal.transfer_consent_problem($1, $2::uuid)";
constexpr const char* kRecordIdsSql =
    "SELECT id, care_context_ref, stored_bytes FROM abdm_hip_internal.transfer_records($1, $2::uuid)";
constexpr const char* kPlanSql = "SELECT abdm_hip_internal.transfer_plan($1, $2::uuid, $3::jsonb, $4::int)";
constexpr const char* kStopSql = "SELECT abdm_hip_internal.transfer_stop($1, $2::uuid, $3)";
constexpr const char* kClaimPagesSql = "SELECT * FROM abdm_hip_internal.transfer_claim_pages($1::int, $2::int)";
constexpr const char* kPagesDoneSql = "SELECT abdm_hip_internal.transfer_pages_done($1::jsonb)";
constexpr const char* kBundlesSql =
    "SELECT id, bundle::text FROM abdm_hip.health_record WHERE hip_id = $1 AND id = ANY ($2::bigint[])";
// One read takes records in page order until this many stored bytes (or kReadRecords records):
// few transactions for many small bundles, one bundle at a time when they are large.
constexpr long long kReadBytes = 1 << 20;
constexpr std::size_t kReadRecords = 16;

// Spool files live in the data directory: private to the server's OS user, on the server's disk.
constexpr const char* kSpoolPrefix = "pg_abdm_push_";
// A page whose records are stored in fewer bytes than this is built in memory instead: creating
// and removing a file per page was ~12 % of the worker's CPU with small records (perf, bench/
// transfer_scale_bench.py), and memory stays bounded (transfer_concurrency pages of < ~0.5 MB).
constexpr long long kMemoryPageBytes = 256 * 1024;

struct CareContextTally {
  int entries = 0;
  long long bytes = 0;
};

// A claimed page, from packaging until its outcome is recorded.
struct Page {
  std::string hip_id, transaction_id, push_url;
  int number = 0, count = 0, attempts = 0;
  std::vector<std::string> record_ids, refs;
  std::vector<long long> sizes;
  json key_material;
  Clock::time_point received_at;
  std::unique_ptr<proto::DataPushWriter> spool;  // removes its file when the page is done
  std::map<std::string, CareContextTally> tally;  // what the push carries, per care context
  json sent = json::array();  // each entry sent, {ref, checksum}, in push order (for the share ledger)
};

std::string request_key(const std::string& hip_id, const std::string& tx) { return hip_id + '\n' + tx; }

class Transfer final : public WorkerTurn {
 public:
  bool turn(bool woken) override {
    collect(engine_.poll(0));
    const auto now = std::chrono::steady_clock::now();
    const bool periodic = now >= next_periodic_;
    if (periodic) next_periodic_ = now + std::chrono::seconds(1);
    const int room = abdm_transfer_concurrency - static_cast<int>(in_flight_.size());
    // Claim (and record outcomes) in batches: while pushes are in flight, wait until half the
    // window is free. Each claim is one transaction that orders the due pages of every request,
    // so claiming one page per finished push cost more CPU than the push itself with a fast HIU
    // (bench/transfer_scale_bench.py, perf: ~60 % of the worker in these queries). The outcomes
    // wait at most until half of the pushes in flight have finished.
    const bool batch_ready = in_flight_.empty() || room >= std::max(1, abdm_transfer_concurrency / 2);
    if (!batch_ready) return false;
    const bool claim = room > 0 && (woken || periodic || more_due_ || !outcomes_.empty());
    if (outcomes_.empty() && !claim) return false;

    // The outcomes so far, the planning of new requests and the next claim, in one transaction.
    std::vector<SqlRow> claimed;
    bool planned_all = true;
    json batch = std::move(outcomes_);
    outcomes_ = json::array();
    in_transaction("abdm_hip transfer: record, plan and claim", [&] {
      if (!batch.empty()) spi_query_kept(kPagesDoneSql, {batch.dump()});
      if (claim) {
        planned_all = plan() < kPlanBatch;
        claimed = spi_query_kept(kClaimPagesSql, {std::to_string(room), std::to_string(kPageLeaseSeconds)});
      }
    });
    more_due_ = claim && (static_cast<int>(claimed.size()) == room || !planned_all);
    if (claimed.empty()) return more_due_;

    std::vector<std::unique_ptr<Page>> pages;
    for (const SqlRow& r : claimed) pages.push_back(page_of(r));
    package(pages);
    submit(std::move(pages));
    return more_due_;
  }

  // Besides its latch, the loop waits on libcurl's sockets, for at most the engine's next timeout
  // while pushes are in flight (a second otherwise, for pages whose retry time has come).
  int wait_fd() const override { return engine_.wait_fd(); }
  long wait_ms() const override {
    const long engine_ms = engine_.timeout_ms();
    return engine_ms < 0 ? 1000 : std::min(engine_ms, 1000L);
  }

 private:
  // Plans up to kPlanBatch requests (inside the caller's transaction); returns how many it took.
  int plan() {
    const std::vector<SqlRow> due = spi_query_kept(kClaimUnplannedSql, {std::to_string(kPlanBatch)});
    const proto::PageLimits limits{static_cast<std::size_t>(abdm_push_entries_per_page),
                                   static_cast<std::uint64_t>(abdm_push_page_max_size_kb) * 1024};
    for (const SqlRow& r : due) {
      const std::string& hip_id = *r[0];
      const std::string& tx = *r[1];
      // Not read-only: a read-only SPI call runs on the snapshot taken when this transaction
      // began, in which a request committed since (and just claimed above, on a fresh snapshot)
      // does not exist yet: no problem found and no records, so it was planned as one empty page
      // and notified TRANSFERRED with nothing sent (seen twice in 100 requests arriving at once,
      // bench/transfer_scale_bench.py, from the HIU's page checks).
      const auto problem = spi_query_kept(kConsentProblemSql, {hip_id, tx});
      if (!problem.empty() && problem[0][0] && !problem[0][0]->empty()) {
        spi_query_kept(kStopSql, {hip_id, tx, *problem[0][0]});
        continue;
      }
      const std::vector<SqlRow> records = spi_query_kept(kRecordIdsSql, {hip_id, tx});
      std::vector<std::uint64_t> sizes;
      for (const SqlRow& rec : records) sizes.push_back(std::stoull(rec[2].value_or("0")));
      json plan = json::array();
      for (const proto::PlannedPage& p : proto::plan_pages(sizes, limits)) {
        json ids = json::array(), refs = json::array(), page_sizes = json::array();
        for (std::size_t i = p.first; i < p.first + p.count; ++i) {
          ids.push_back(std::stoll(*records[i][0]));
          refs.push_back(*records[i][1]);
          page_sizes.push_back(sizes[i]);
        }
        if (p.oversized)
          log_line("abdm_hip transfer: record " + *records[p.first][0] + " of transaction " + tx + " (" +
                   std::to_string(p.bytes) + " bytes) is larger than abdm_hip.push_page_max_size: sent alone");
        plan.push_back({{"records", ids}, {"refs", refs}, {"sizes", page_sizes}, {"oversized", p.oversized}});
      }
      spi_query_kept(kPlanSql, {hip_id, tx, plan.dump(), std::to_string(abdm_push_entries_per_page)});
    }
    return static_cast<int>(due.size());
  }

  static std::unique_ptr<Page> page_of(const SqlRow& r) {
    auto p = std::make_unique<Page>();
    p->hip_id = *r[0];
    p->transaction_id = *r[1];
    p->number = std::stoi(*r[2]);
    p->count = std::stoi(*r[3]);
    for (const json& id : json::parse(*r[4])) p->record_ids.push_back(std::to_string(id.get<long long>()));
    for (const json& ref : json::parse(*r[5])) p->refs.push_back(ref.get<std::string>());
    for (const json& size : json::parse(*r[6])) p->sizes.push_back(size.get<long long>());
    p->push_url = *r[7];
    p->key_material = json::parse(*r[8]);
    p->received_at = Clock::time_point(std::chrono::microseconds(
        static_cast<long long>(std::stod(*r[9]) * 1e6)));
    p->attempts = std::stoi(*r[10]);
    return p;
  }

  // Opens each page's spool with its own key pair and nonce, then fills the pages from reads of
  // consecutive records across them, each read in a short transaction of its own; encryption and
  // writing happen outside any transaction. Pushes already in flight keep moving between reads.
  void package(std::vector<std::unique_ptr<Page>>& pages) {
    struct Slot {
      Page* page;
      std::size_t index;
    };
    std::vector<Slot> order;
    for (auto& p : pages) {
      open_spool(*p);
      for (std::size_t i = 0; i < p->record_ids.size(); ++i) order.push_back({p.get(), i});
    }
    for (std::size_t first = 0; first < order.size();) {
      std::size_t end = first;
      long long bytes = 0;
      std::map<std::string, std::string> ids_by_hip;  // hip_id → "{id,id,...}"
      // Pages of different requests may carry the same record (two HIUs, two consents): it is
      // read once and kept until its last use in this read.
      std::unordered_map<std::string, int> uses;
      while (end < order.size() && end - first < kReadRecords) {
        const long long size = order[end].page->sizes[order[end].index];
        if (end > first && bytes + size > kReadBytes) break;
        bytes += size;
        const std::string& id = order[end].page->record_ids[order[end].index];
        if (uses[id]++ == 0) {
          std::string& ids = ids_by_hip[order[end].page->hip_id];
          ids += (ids.empty() ? "{" : ",") + id;
        }
        ++end;
      }
      std::unordered_map<std::string, std::string> bundles;  // id → bundle text
      in_transaction("abdm_hip transfer: read records", [&] {
        for (auto& [hip_id, ids] : ids_by_hip)
          for (SqlRow& row : spi_query_kept(kBundlesSql, {hip_id, ids + "}"}, true))
            if (row[1]) bundles.emplace(*row[0], std::move(*row[1]));
      });
      // In page order; a record the HMIS deleted meanwhile is left out.
      for (std::size_t i = first; i < end; ++i) {
        Page& p = *order[i].page;
        auto it = bundles.find(p.record_ids[order[i].index]);
        if (it == bundles.end()) continue;
        const std::string& ref = p.refs[order[i].index];
        // Serialised once: these exact bytes are hashed and sent.
        p.sent.push_back({{"ref", ref}, {"checksum", p.spool->add(ref, it->second)}});
        CareContextTally& t = p.tally[ref];
        t.entries++;
        t.bytes += static_cast<long long>(it->second.size());
        if (--uses[it->first] == 0) bundles.erase(it);  // memory back after the record's last entry
      }
      first = end;
      collect(engine_.poll(0));
    }
    for (auto& p : pages) p->spool->finish();
  }

  // A fresh key pair and nonce for this page (and this attempt): Fidelius encrypts every entry of
  // a page under one AES-GCM key and IV, so no two pages may share them.
  static void open_spool(Page& p) {
    crypto::KeyMaterial ours = crypto::generate_key_material();
    const json& km = p.key_material;
    const crypto::SessionKeys keys = crypto::sender_session_keys(
        ours.private_key, ours.nonce, km.at("dhPublicKey").at("keyValue").get<std::string>(),
        km.at("nonce").get<std::string>());
    proto::PushKeyMaterial pk;
    pk.expiry = std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now() + std::chrono::hours(24));
    pk.key_value = ours.x509_public_key;  // X.509: the reference HIU parses only that (API §11.4)
    pk.nonce = ours.nonce;
    long long stored = 0;
    for (long long s : p.sizes) stored += s;
    p.spool = std::make_unique<proto::DataPushWriter>(
        stored < kMemoryPageBytes ? std::string()
                                  : std::string(DataDir) + "/" + kSpoolPrefix + p.transaction_id + "_" +
                                        std::to_string(p.number) + ".json",
        p.transaction_id, keys, pk, p.number, p.count);
  }

  // The consent once more (a revocation or expiry while packaging stops the pages not pushed),
  // then each page goes to the delivery engine; a page whose window has closed fails instead.
  void submit(std::vector<std::unique_ptr<Page>> pages) {
    std::map<std::string, std::string> problems;  // request → why it may not be shared any more
    in_transaction("abdm_hip transfer: check consent", [&] {
      std::set<std::string> asked;
      for (const auto& p : pages) {
        const std::string key = request_key(p->hip_id, p->transaction_id);
        if (!asked.insert(key).second) continue;
        const auto rows = spi_query_kept(kConsentProblemSql, {p->hip_id, p->transaction_id}, true);
        const std::string problem = rows.empty() ? "request no longer known" : rows[0][0].value_or("");
        if (!problem.empty()) {
          problems[key] = problem;
          spi_query_kept(kStopSql, {p->hip_id, p->transaction_id, problem});
        }
      }
    });
    for (auto& p : pages) {
      if (problems.count(request_key(p->hip_id, p->transaction_id))) continue;  // the spool goes with p
      if (Clock::now() >= p->received_at + kPushWindow) {
        outcomes_.push_back(outcome_json(*p, "failed", "the 20-minute push window closed before this page went"));
        continue;
      }
      net::Delivery d;
      d.id = next_id_++;
      d.owner = p->hip_id;
      d.url = p->push_url;
      if (p->spool->in_memory()) {
        d.body = p->spool->take_body();
      } else {
        d.body_file = p->spool->path();
        d.body_file_size = p->spool->size();
      }
      d.style = net::HeaderStyle::kDataPush;
      d.request_id = net::new_request_id();
      d.cm_id = abdm_cm_id;
      d.hip_id = p->hip_id;
      d.attempts_made = p->attempts;
      d.timeout_ms = std::max(abdm_http_timeout_ms, 60000);
      d.ca_file = abdm_ca_file ? abdm_ca_file : "";
      d.verify_tls = abdm_verify_tls;
      // A push that can get better (5xx, 408, 429, a transport failure) is retried after 2 s
      // doubling to 2 min, but only while that attempt would still fall inside the window.
      d.backoff = {std::chrono::seconds(2), std::chrono::minutes(2), std::numeric_limits<int>::max()};
      d.deadline = p->received_at + kPushWindow;
      in_flight_.emplace(d.id, std::move(p));
      engine_.submit(std::move(d));
    }
  }

  // Finished pushes become outcomes, recorded with the next transaction.
  void collect(std::vector<net::Outcome> done) {
    for (net::Outcome& o : done) {
      auto it = in_flight_.find(o.id);
      if (it == in_flight_.end()) continue;
      const Page& p = *it->second;
      switch (o.kind) {
        case net::OutcomeKind::kSent:
          outcomes_.push_back(outcome_json(p, "pushed", ""));
          break;
        case net::OutcomeKind::kRetry:
        case net::OutcomeKind::kDefer: {
          json j = outcome_json(p, "retry", o.reason);
          j["delay_ms"] = o.delay.count();
          outcomes_.push_back(std::move(j));
          break;
        }
        case net::OutcomeKind::kFailed:
          outcomes_.push_back(outcome_json(p, "failed", "push to the HIU failed: " + o.reason));
          break;
      }
      in_flight_.erase(it);  // and its spool file with it
    }
  }

  static json outcome_json(const Page& p, const char* outcome, const std::string& error) {
    json delivered = json::object();
    int entries = 0;
    for (const auto& [ref, t] : p.tally) {
      delivered[ref] = {{"entries", t.entries}, {"bytes", t.bytes}};
      entries += t.entries;
    }
    return {{"hip_id", p.hip_id}, {"transaction_id", p.transaction_id}, {"page_number", p.number},
            {"outcome", outcome}, {"error", error.empty() ? json(nullptr) : json(error)},
            {"entries", entries}, {"bytes", p.spool ? p.spool->size() : 0}, {"delivered", delivered},
            {"sent", p.sent}};
  }

  // The token the sender published in shared memory, read afresh for each push; never renewed here.
  net::CachedTokenSource tokens_{[] { return load_cached_token().token; }};
  net::DeliveryEngine engine_{tokens_};
  std::unordered_map<std::int64_t, std::unique_ptr<Page>> in_flight_;
  std::int64_t next_id_ = 1;
  json outcomes_ = json::array();
  bool more_due_ = true;
  std::chrono::steady_clock::time_point next_periodic_{};
};

// A push spooled by a worker that died (a crash, SIGKILL, the postmaster going away) is never
// resumed: its page's lease is released and it is packaged afresh from the records. So every
// spool file found at start-up (there is one transfer worker) is an orphan holding ciphertext.
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
                          "UPDATE abdm_hip.transfer_page SET next_attempt_at = now(), lease_until = NULL "
                          "WHERE status = 'pending' AND lease_until IS NOT NULL",
                          "page(s) under way");
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
