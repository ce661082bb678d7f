-- wrk script of bench/run.py: requests from a list, and a JSON summary line at the end.
--
-- BENCH_PATHS_FILE names a file of request lines, "path" or "path<TAB>json body". Line L is
-- always sent by thread L % BENCH_THREADS, and each thread walks its lines in order, so a list
-- laid out in passes (step 1 of every ticket, then step 2 of every ticket, ...) moves each ticket
-- through its steps in order, never two at once. BENCH_METHOD (GET or POST) applies to every line;
-- with BENCH_ONCE=1 the list is walked once and the thread then stops.
local lines = nil
local counter = 0
local method = os.getenv("BENCH_METHOD") or "GET"
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
local once = os.getenv("BENCH_ONCE") == "1"

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local f = os.getenv("BENCH_PATHS_FILE")
  if f then
    lines = {}
    for line in io.lines(f) do
      local tab = string.find(line, "\t", 1, true)
      if tab then
        table.insert(lines, {string.sub(line, 1, tab - 1), string.sub(line, tab + 1)})
      else
        table.insert(lines, {line, nil})
      end
    end
  end
  -- wrk builds one request on thread 0 after init() to check the script, and throws it away:
  -- start that thread one step back so that its first line is still sent (and a ticket's first
  -- step is not skipped, which would make its second step a 409).
  counter = (id == 0) and -1 or 0
end

function request()
  local path, body = nil, nil
  if lines then
    local n = counter * nthreads + (id or 0)
    if once and n >= #lines then
      -- BENCH_ONCE: every step is sent once; a step sent again would only be refused (409, the
      -- ticket has moved on). The thread stops; the request it must still return is a health check.
      wrk.thread:stop()
      return wrk.format("GET", "/healthz")
    end
    local idx = n % #lines + 1
    path, body = lines[idx][1], lines[idx][2]
  end
  counter = counter + 1
  if method == "POST" then
    wrk.headers["Content-Type"] = "application/json"
    return wrk.format("POST", path, nil, body or "{}")
  end
  return wrk.format(nil, path)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, "timeouts": %d, '
    .. '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration, errors, summary.errors.status, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
