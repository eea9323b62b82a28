-- coap.malformed: the device rejects malformed CoAP messages and stays alive
-- (EN 303 645 5.13-1). Named zz_ so that it runs after the other CoAP test
-- cases: a device that hangs here does not spoil them. Evidence: for each
-- message, its exact bytes (transcript) and the first reply (type, code);
-- after each, a CoAP ping and a GET of a public resource. RST, 4.xx, 5.xx and
-- silence are rejections. A 2.xx answer to a message format error or to an
-- unrecognised critical option, or lost liveness, fails.

-- The public resource to check liveness with: a declared resource that is
-- not security-relevant, else /.well-known/core.
local function public_resource(dossier)
  local ixit = dossier.ixit or {}
  local relevant = {}
  for _, p in ipairs((ixit.security_relevant or {}).coap_resources or {}) do
    relevant[p] = true
  end
  relevant[(ixit.coap or {}).config_resource or ""] = true
  for _, p in ipairs((ixit.coap or {}).resources or {}) do
    if not relevant[p] and p ~= "/.well-known/core" then
      return p
    end
  end
  return "/.well-known/core"
end

local function segments(path)
  local out = {}
  for s in path:gmatch("[^/]+") do
    out[#out + 1] = { number = 11, value = s }
  end
  return out
end

local function with(list, ...)
  local out = {}
  for _, o in ipairs({ ... }) do
    out[#out + 1] = o
  end
  for _, o in ipairs(list) do
    out[#out + 1] = o
  end
  table.sort(out, function(a, b)
    return a.number < b.number
  end)
  return out
end

-- The messages, in order. strict: a 2.xx answer is a FAIL (the message is a
-- format error or carries an unrecognised critical option); otherwise only
-- liveness counts (the content is odd, but a device may serve it).
local function messages(public)
  local seg = segments(public)
  local last = seg[#seg] and seg[#seg].value or "x"
  local ctl_path = {}
  for i, s in ipairs(seg) do
    ctl_path[i] = { number = 11, value = i == #seg and (last .. "\1") or s.value }
  end
  local get = function(options)
    return { version = 1, type = 0, code = 1, mid = 0x4d31, token = "mf01", options = options }
  end
  return {
    { label = "token length 15 (reserved)", strict = true, msg = { preset = "tkl-15" } },
    { label = "truncated option", strict = true, msg = { preset = "truncated-option" } },
    { label = "option delta overflow", strict = true, msg = { preset = "delta-overflow" } },
    { label = "reserved option nibble 15", strict = true, msg = { preset = "reserved-nibble" } },
    { label = "CoAP version 2", strict = true, msg = { preset = "bad-version" } },
    { label = "unrecognised critical option 9 on GET " .. public, strict = true,
      msg = get(with(seg, { number = 9, value = "x" })) },
    { label = "unrecognised critical option 65001 on GET " .. public, strict = true,
      msg = get(with(seg, { number = 65001, value = "x" })) },
    { label = "Content-Format of 3 bytes (uint over its 2-byte maximum)", strict = true,
      msg = get(with(seg, { number = 12, value = "\1\2\3" })) },
    { label = "Block2 number 2^20-1", strict = false, msg = { preset = "absurd-block2" } },
    { label = "Block1 number 2^20-1 on PUT", strict = false, msg = { preset = "absurd-block1" } },
    { label = "control byte in a Uri-Query of GET " .. public, strict = false,
      msg = get(with(seg, { number = 15, value = "\1\2" })) },
    { label = "control byte in a Uri-Path of GET " .. public, strict = false,
      msg = get(ctl_path) },
  }
end

testcase {
  id = "coap.malformed",
  version = 1,
  title = "The device rejects malformed CoAP messages and keeps working",
  description = "Sends twelve malformed or hostile CoAP messages over plain UDP, one at a time, "
    .. "and after each checks that the device still answers a ping and a GET of a public resource.",
  obligations = { "EN-5.13-1" },
  applies = { interface = "coap", ics = { "EN-5.13-1" } },
  category = "intrusive",
  parameters = { reply_timeout_ms = 1000, liveness_timeout_ms = 2000 },
  probe = function(dut, t, params, dossier)
    local public = public_resource(dossier)
    local live = { timeout_ms = params.liveness_timeout_ms }
    local function alive()
      local ok, why = t.coap.alive(dut.coap, live)
      local r, gwhy = t.coap.get(dut.coap, public, live)
      return { ping = ok and "answered" or why, get = r and r.code or gwhy,
        ok = ok == true and r ~= nil }
    end
    local out = { public = public, before = alive(), sent = {} }
    if not out.before.ok then
      return out
    end
    for _, m in ipairs(messages(public)) do
      local r, why = t.coap.raw(dut.coap, m.msg, { timeout_ms = params.reply_timeout_ms })
      local e = { label = m.label, strict = m.strict }
      if not r then
        e.error = why
      else
        e.bytes = r.bytes_sent
        local rep = r.replies[1]
        e.reply = rep and string.format("%s %s", rep.type or "?", rep.code or "?") or "silence"
        e.class = rep and rep.code and tonumber(rep.code:sub(1, 1))
        e.type = rep and rep.type
      end
      e.after = alive()
      out.sent[#out.sent + 1] = e
      if not e.after.ok then
        break
      end
    end
    return out
  end,
  judge = function(obs)
    if not obs.before.ok then
      return INCONCLUSIVE("the device did not answer before any malformed message was sent "
        .. "(ping: %s, GET %s: %s): is it up?", obs.before.ping, obs.public, obs.before.get)
    end
    local replies, fails = {}, {}
    for _, e in ipairs(obs.sent) do
      if e.error then
        return ERROR("message '%s' was not sent: %s", e.label, e.error)
      end
      replies[#replies + 1] = string.format("%s: %s", e.label, e.reply)
      if e.strict and e.class == 2 and e.type ~= "RST" then
        fails[#fails + 1] = string.format("%s was accepted (%s)", e.label, e.reply)
      end
      if not e.after.ok then
        fails[#fails + 1] = string.format("after the %s (reply: %s) the device stopped answering "
          .. "(ping: %s; GET %s: %s)", e.label, e.reply, e.after.ping, obs.public, e.after.get)
      end
    end
    if #fails > 0 then
      return FAIL("%s", table.concat(fails, "; "))
    end
    return PASS("%d malformed messages were rejected or answered harmlessly and the device "
      .. "answered a ping and GET %s after each: %s", #obs.sent, obs.public,
      table.concat(replies, "; "))
  end,
}
