-- Each wrk thread walks its own block of bench users: one pass POSTs a
-- reservation for every user, the next pass DELETEs them, and so on. A
-- user's POST and DELETE are a whole pass apart, so they never overlap.
local users_per_thread = tonumber(os.getenv("BENCH_USERS_PER_THREAD") or "2000")
local thread_counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_counter)
  thread_counter = thread_counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local k = n % users_per_thread
  local pass = math.floor(n / users_per_thread)
  n = n + 1
  local user = tid * users_per_thread + k
  local headers = { ["Authorization"] = "Token bench-" .. user, ["Content-Type"] = "application/json" }
  if pass % 2 == 0 then
    local slot = slot_base + (user % 12)
    return wrk.format("POST", "/api/reporter/reservations/", headers,
      '{"slot_id":' .. slot .. ',"monthly_orders_estimate":100}')
  else
    return wrk.format("DELETE", "/api/reporter/reservations/", headers)
  end
end
