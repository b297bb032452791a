-- wrk script for abdm_http_sink: POST a ~200-byte JSON body with a fresh REQUEST-ID each time,
-- as the sender does (so the sink's distinct/duplicate counters are exercised, not just parsing).
--   wrk -t1 -c64 -d10s -s bench/sink/wrk_post.lua http://127.0.0.1:PORT/api/hiecm/v3/hip/x
local counter = 0
prefix = ""  -- global: thread:set() in setup() writes globals
local body = '{"requestId":"5f7a535d-a3fd-416b-b069-c97d021fbacd","timestamp":"2026-01-01T00:00:00.000Z",' ..
             '"hiRequest":{"transactionId":"a1s2c932-2f70-3ds3-a3b5-2sfd46b12a18","sessionStatus":"TRANSFERRED"}}'

-- Each wrk thread has its own Lua state (own counter, same random seed), so ids would repeat
-- across threads; setup() runs once per thread in the main state and gives each a distinct prefix.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("prefix", os.time() .. "-" .. threads .. "-")
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["REQUEST-ID"] = prefix .. counter}, body)
end
