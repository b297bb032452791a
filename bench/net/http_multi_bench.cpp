// Requests per second through HttpMulti to a loopback libmicrohttpd server, 1000 small POSTs per
// iteration with a fixed number in flight (the sender worker's in-flight cap). Two sinks: one that
// answers 202 at once (engine overhead) and one that waits 20 ms (the cap ÷ 20 ms is the ceiling).
// Run: build-net/net_bench   (the "items_per_second" column is requests/s; "cpu" is the client's).
#include <benchmark/benchmark.h>

#include "../../test/unit/net/loopback_server.hpp"
#include "core/net/http_multi.hpp"

namespace {

using abdm::net::HttpMulti;
using abdm::net::HttpMultiOptions;
using abdm::net::Request;
using abdm::net::testing::LoopbackServer;

constexpr int kRequests = 1000;
const std::string kBody = R"({"abhaAddress":"hina.patel@sbx","patient":[{"referenceNumber":"P-1","careContexts":[{"referenceNumber":"CC-1","display":"OPD 2026-01-01"}],"hiType":"OPConsultation","count":1}]})";

LoopbackServer& fast_server() {
  static LoopbackServer s({nullptr, /*thread_per_connection=*/false, /*record=*/false});
  return s;
}

LoopbackServer& slow_server() {
  static LoopbackServer s({nullptr, /*thread_per_connection=*/true, /*record=*/false});
  return s;
}

void drive(benchmark::State& state, LoopbackServer& server, const std::string& url) {
  const int served_before = server.requests_served();
  const int in_flight = static_cast<int>(state.range(0));
  HttpMultiOptions o;
  o.max_total_connections = in_flight;
  o.max_host_connections = in_flight;
  o.max_connects_cached = in_flight;
  HttpMulti m(o);
  Request proto;
  proto.url = url;
  proto.body = kBody;
  proto.headers = {{"Content-Type", "application/json"},
                   {"REQUEST-ID", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01"},
                   {"X-CM-ID", "sbx"}};
  long failures = 0;
  for (auto _ : state) {
    int submitted = 0, done = 0;
    while (done < kRequests) {
      while (submitted < kRequests && submitted - done < in_flight) {
        Request r = proto;
        r.id = submitted++;
        m.submit(std::move(r));
      }
      for (const auto& r : m.poll(50)) {
        ++done;
        if (r.http_status != 202) ++failures;
      }
    }
  }
  if (failures) state.SkipWithError("some requests failed");
  state.SetItemsProcessed(state.iterations() * kRequests);
  state.counters["connections"] = static_cast<double>(m.total_new_connections());
  // Proof that every request reached the server (not only that curl finished).
  state.counters["served_per_iter"] =
      static_cast<double>(server.requests_served() - served_before) / static_cast<double>(state.iterations());
}

void BM_Post_Immediate202(benchmark::State& state) { drive(state, fast_server(), fast_server().url("/ok")); }
void BM_Post_Sink20ms(benchmark::State& state) { drive(state, slow_server(), slow_server().url("/slow?ms=20")); }

BENCHMARK(BM_Post_Immediate202)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Post_Sink20ms)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
