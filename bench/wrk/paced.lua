-- The requests of sends.lua at a fixed rate across all connections, with wrk's delay():
--
--   wrk -t2 -c256 -d10s --timeout 30s -s bench/wrk/paced.lua http://127.0.0.1:8000 \
--       -- KEY OFFSET RATE THREADS
--
-- Each thread sends RATE / THREADS requests a second on a schedule of its own: before each
-- request a connection takes the thread's next slot and waits for it. A connection still
-- waiting for its answer cannot take a slot, so when the server is slower than
-- connections / rate a slot is taken late; wrk then times the request from when it was sent,
-- not from its slot (coordinated omission). The late slots and the worst lateness are counted
-- in wrk-result ("late", "late_max_ms"): when they are not 0, the rate was not held and the
-- latencies flatter the server; use more connections.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "sends.lua")

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } wrk_timespec;
int clock_gettime(int clock, wrk_timespec *now);
]])
local now = ffi.new("wrk_timespec")
local CLOCK_MONOTONIC = 1

local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
   return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

local next_slot = nil

function delay()
   local interval = 1000 * thread_count / rate
   local at = now_ms()
   if next_slot == nil then
      -- Threads start their schedules a fraction of an interval apart.
      next_slot = at + interval * id / thread_count
   end
   local slot = next_slot
   next_slot = next_slot + interval
   local wait = slot - at
   -- A slot less than a millisecond off counts as on time: delay() waits whole milliseconds.
   if wait < -1 then
      late = late + 1
      late_max_ms = math.max(late_max_ms, -wait)
   end
   return math.max(0, math.floor(wait + 0.5))
end
