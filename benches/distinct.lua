-- wrk script: a different request every time, so no answer comes from the portal's page cache.
-- Environment: BENCH_MODE = html | api | filters; BENCH_QUERIES = a file of queries (one a
-- line); BENCH_FILTERS = a file of "field level" pairs (filters mode).
-- Each request carries a realistic query (or two filters) plus a counter unique across threads.

local mode = os.getenv("BENCH_MODE") or "html"
local items = {}
local threads = {}
local counter = 0

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function load(path)
  local out = {}
  for line in io.lines(path) do
    if line:match("%S") then table.insert(out, line) end
  end
  return out
end

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  if mode == "filters" then
    for _, line in ipairs(load(os.getenv("BENCH_FILTERS"))) do
      local field, level = line:match("^(%S+)%s+(%S+)$")
      table.insert(items, "field=" .. field .. "&level=" .. level)
    end
  else
    for _, q in ipairs(load(os.getenv("BENCH_QUERIES"))) do
      table.insert(items, "q=" .. urlencode(q))
    end
  end
end

function request()
  counter = counter + 1
  local item = items[(counter % #items) + 1]
  local prefix = (mode == "api") and "/api/v1/services?" or "/services?"
  return wrk.format("GET", prefix .. item .. "&r=" .. id .. "-" .. counter)
end
