-- wrk script for the bench: send one scenario's request (a small JSON body),
-- count the requests each thread sends, and print one JSON line with the
-- summary when done. The request comes from the environment, as
-- bench/load.py's wrk_env sets it from bench/apps/shapes.py: BENCH_METHOD,
-- BENCH_PATH, BENCH_BODY, and BENCH_HEADERS (one "Name: value" a line).

wrk.method = os.getenv("BENCH_METHOD") or "POST"
wrk.path = os.getenv("BENCH_PATH") or "/register"
wrk.body = os.getenv("BENCH_BODY") or '{"name": "ada", "email": "ada@example.com"}'
wrk.headers["Content-Type"] = "application/json"
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
   local name, value = string.match(line, "^([%w!#$%%&'*+.^_`|~-]+):%s*(.-)%s*$")
   if not name then
      error("BENCH_HEADERS: not a 'Name: value' line: " .. line)
   end
   wrk.headers[name] = value
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("first", #threads == 1)
end

function init(args)
   -- wrk calls request() once on the first thread to check the script before
   -- any connection is made: that call sends nothing, so it is not counted
   sent = first and -1 or 0
   prepared = wrk.format()
end

function request()
   sent = sent + 1
   return prepared
end

function done(summary, latency, requests)
   local total_sent = 0
   for _, thread in ipairs(threads) do
      total_sent = total_sent + thread:get("sent")
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, "sent": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f, "stdev": %.1f}}\n',
      summary.duration, summary.requests, summary.bytes, total_sent,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, latency.stdev))
end
