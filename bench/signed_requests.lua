-- wrk script for bench/ivr_throughput.py: replays pre-signed Twilio webhook requests and checks
-- every answer. Run as: wrk -t N -c C -d D -s signed_requests.lua URL -- <stream prefix> <marker>
-- Thread k reads "<prefix>-k.txt": one request a line, "path<TAB>X-Twilio-Signature<TAB>body".
-- It prints one "RESULT key=value ..." line (and "ERROR ..." lines) for the Python side to parse.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local prefix, marker = args[1], args[2]
  apology_marker = marker or "\1"
  reqs, kinds = {}, {}
  for line in io.lines(prefix .. "-" .. id .. ".txt") do
    local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    kinds[#reqs + 1] = "sent_" .. (path:match("^/ivr/([%a-]+)") or "other")
    reqs[#reqs + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = signature,
      ["User-Agent"] = "TwilioProxy/1.1",
    }, body)
  end
  pos, wrapped = 0, 0
  ok, bad, apologies, dialled, hung_up, menus, empty = 0, 0, 0, 0, 0, 0, 0
  sent_voice, sent_language, sent_topic, sent_status, sent_other = 0, 0, 0, 0, 0
  errors = ""
end

function request()
  pos = pos + 1
  if pos > #reqs then
    pos, wrapped = 1, wrapped + 1
  end
  _G[kinds[pos]] = (_G[kinds[pos]] or 0) + 1
  return reqs[pos]
end

function response(status, headers, body)
  if status ~= 200 or not body:find("<Response", 1, true) then
    bad = bad + 1
    if bad <= 5 then
      errors = errors .. "ERROR status=" .. status .. " body=" .. body:sub(1, 200):gsub("%s+", " ") .. "\n"
    end
    return
  end
  ok = ok + 1
  if body:find(apology_marker, 1, true) then
    apologies = apologies + 1
  elseif body:find("<Dial", 1, true) then
    dialled = dialled + 1
  elseif body:find("<Hangup", 1, true) then
    hung_up = hung_up + 1
  elseif body:find("<Gather", 1, true) then
    menus = menus + 1
  else
    empty = empty + 1
  end
end

function done(summary, latency, _requests)
  local totals = {ok = 0, bad = 0, apologies = 0, dialled = 0, hung_up = 0, menus = 0, empty = 0, wrapped = 0,
                  sent_voice = 0, sent_language = 0, sent_topic = 0, sent_status = 0}
  local errors = ""
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
    errors = errors .. (thread:get("errors") or "")
  end
  io.write(errors)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d bytes=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d ok=%d bad=%d apologies=%d " ..
    "dialled=%d hung_up=%d menus=%d empty=%d wrapped=%d connect=%d read=%d write=%d timeout=%d status=%d " ..
    "sent_voice=%d sent_language=%d sent_topic=%d sent_status=%d\n",
    summary.requests, summary.bytes, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    totals.ok, totals.bad, totals.apologies, totals.dialled, totals.hung_up, totals.menus, totals.empty,
    totals.wrapped, e.connect, e.read, e.write, e.timeout, e.status,
    totals.sent_voice, totals.sent_language, totals.sent_topic, totals.sent_status))
end
