-- wrk script for benches/login.sh: every request is one login through the form,
--   POST /login with the CSRF cookie and the same token in the body.
-- Environment (set by benches/login.sh):
--   LOGIN_BODY    the urlencoded form body (_csrf, login, password, next)
--   LOGIN_CSRF    the csrf cookie value (the same token as in the body)
--   LOGIN_ORIGIN  http://127.0.0.1:PORT, sent as Origin like a browser does
-- A successful login answers 303 (to /account); wrk counts 3xx as fine. 429 (rate
-- limited), 401/403 (refused) and 5xx are "Non-2xx or 3xx responses" to wrk; the
-- per-status counts printed at the end tell them apart ("status NNN: COUNT").

wrk.method = "POST"
wrk.path = "/login"
wrk.body = os.getenv("LOGIN_BODY") or ""
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "csrf=" .. (os.getenv("LOGIN_CSRF") or "")
wrk.headers["Origin"] = os.getenv("LOGIN_ORIGIN") or ""

-- One Lua state per wrk thread: each counts its own answers, `done` adds them up.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

statuses = {}

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
        local counts = thread:get("statuses") or {}
        for status, n in pairs(counts) do
            total[status] = (total[status] or 0) + n
        end
    end
    local keys = {}
    for status in pairs(total) do
        table.insert(keys, status)
    end
    table.sort(keys)
    for _, status in ipairs(keys) do
        io.write(string.format("status %d: %d\n", status, total[status]))
    end
    io.write(string.format("duration_us: %d\n", summary.duration))
end
