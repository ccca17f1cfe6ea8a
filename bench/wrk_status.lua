-- For bench/pages.py: counts the responses whose status is not 200 and prints the total once
-- wrk ends ("not-200: N"). wrk's own count takes redirects for successes.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrong = 0
end

function response(status, headers, body)
  if status ~= 200 then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("wrong")
  end
  io.write(string.format("not-200: %d\n", total))
end
