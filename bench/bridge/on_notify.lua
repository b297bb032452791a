-- wrk script for the bridge listener benchmark (bench/bridge_bench.py): every request is a
-- gateway call as the gateway sends it, the acknowledgement of a context notify
-- (POST /api/v3/links/context/on-notify), with its own REQUEST-ID (UUID v4), a fresh TIMESTAMP
-- (ISO-8601 UTC with milliseconds), X-HIP-ID and the gateway's bearer token. The token is minted
-- once by the bench and reused, as the real gateway reuses one for 20 minutes; the listener still
-- verifies its RS256 signature on every request.
--
--   wrk -t2 -c16 -d10s -s bench/bridge/on_notify.lua http://127.0.0.1:PORT -- TOKEN HIP_ID [PATH]
--
-- At the end it prints one line "WRKJSON {...}" with the counts and the latency percentiles (µs).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")

local token, hip, path
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  token = args[1] or error("usage: -- TOKEN HIP_ID [PATH]")
  hip = args[2] or error("usage: -- TOKEN HIP_ID [PATH]")
  path = args[3] or "/api/v3/links/context/on-notify"
  -- A seed of its own per thread (the threads start within the same second).
  ffi.C.gettimeofday(tv, nil)
  math.randomseed(tonumber(tv.tv_usec) * 1000003 + tonumber(tv.tv_sec) + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
end

local function uuid4()
  local r = math.random
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x",
    r(0, 0xffffffff), r(0, 0xffff), r(0, 0xfff), 0x8000 + r(0, 0x3fff), r(0, 0xffff), r(0, 0xffffffff))
end

local function timestamp()
  ffi.C.gettimeofday(tv, nil)
  local sec = tonumber(tv.tv_sec)
  return os.date("!%Y-%m-%dT%H:%M:%S", sec) .. string.format(".%03dZ", math.floor(tonumber(tv.tv_usec) / 1000))
end

function request()
  local ts = timestamp()
  local body = '{"requestId":"' .. uuid4() .. '","timestamp":"' .. ts ..
               '","acknowledgement":{"status":"SUCCESS"},"response":{"requestId":"' .. uuid4() .. '"}}'
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["REQUEST-ID"] = uuid4(),
    ["TIMESTAMP"] = ts,
    ["X-HIP-ID"] = hip,
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
