-- POST /sms/send, each request with a number and text of its own; answers counted by result.
--
--   wrk -t2 -c64 -d10s --timeout 10s -s bench/wrk/sends.lua http://127.0.0.1:8000 -- KEY [OFFSET]
--
-- Thread n (from 0) numbers its requests OFFSET + n * 10,000,000 + 0, 1, 2, ...: the number goes
-- into the text, so no two requests of a run are the same request to the gateway (identical
-- bodies within two minutes would get the first answer again), and its last eight digits make
-- the recipient 9053xxxxxxxx. Give each run of one gateway its own OFFSET (bench/send.py uses
-- multiples of 100,000,000). At the end, after wrk's own summary, one line:
--
--   wrk-result {"requests": ..., "duration_us": ..., "latency_us": {...}, "codes": {...}, ...}
--
-- with the answers by HTTP status and by result_code (TS-1024: accepted), read by send.py.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   key = args[1]
   offset = tonumber(args[2] or "0")
   rate = tonumber(args[3] or "0")
   thread_count = tonumber(args[4] or "1")
   first = offset + id * 10000000
   sent = 0
   codes = {}
   statuses = {}
   unparsed = 0
   late = 0
   late_max_ms = 0
end

local template = '{"api_key":"%s","title":"ILETI","sentto":"9053%08d",'
   .. '"text":"Siparişiniz yola çıktı: %d","sms_lang":1}'
local headers = { ["Content-Type"] = "application/json" }

function request()
   local n = first + sent
   sent = sent + 1
   local body = string.format(template, key, n % 100000000, n)
   return wrk.format("POST", "/sms/send", headers, body)
end

function response(status, _, body)
   statuses[status] = (statuses[status] or 0) + 1
   local code = body and body:match('"result_code"%s*:%s*"(TS%-%d+)"')
   if code then
      codes[code] = (codes[code] or 0) + 1
   else
      unparsed = unparsed + 1
   end
end

local function json_counts(counts)
   local items = {}
   for name, count in pairs(counts) do
      table.insert(items, string.format('"%s":%d', tostring(name), count))
   end
   return "{" .. table.concat(items, ",") .. "}"
end

local function add_into(total, counts)
   for name, count in pairs(counts) do
      total[name] = (total[name] or 0) + count
   end
end

function done(summary, latency, _)
   local codes_all, statuses_all = {}, {}
   local unparsed_all, late_all, late_max = 0, 0, 0
   for _, thread in ipairs(threads) do
      add_into(codes_all, thread:get("codes"))
      add_into(statuses_all, thread:get("statuses"))
      unparsed_all = unparsed_all + thread:get("unparsed")
      late_all = late_all + thread:get("late")
      late_max = math.max(late_max, thread:get("late_max_ms"))
   end
   local errors = summary.errors
   io.write(string.format(
      'wrk-result {"requests":%d,"duration_us":%d,'
         .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d},'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
         .. '"codes":%s,"statuses":%s,"unparsed":%d,"late":%d,"late_max_ms":%.1f}\n',
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      errors.connect, errors.read, errors.write, errors.timeout,
      json_counts(codes_all), json_counts(statuses_all), unparsed_all, late_all, late_max))
end
