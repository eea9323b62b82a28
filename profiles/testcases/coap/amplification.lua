-- coap.amplification: how much larger than its request is the answer an
-- unauthenticated peer gets (RFC 7252, section 11.3; informative, no legal
-- obligation). Evidence: the exact size of a NoSec GET /.well-known/core sent
-- as one datagram on the raw path, and of the first datagram that answers it
-- (a spoofed source would receive that datagram; retransmissions aside).

testcase {
  id = "coap.amplification",
  version = 1,
  title = "A small unauthenticated CoAP request does not draw a much larger answer (reflection risk)",
  description = "Sends one NoSec GET /.well-known/core and divides the size of the first answering "
    .. "datagram by the size of the request. Above max_ratio is a reflection and amplification risk.",
  obligations = { "INFO-COAP-AMPLIFICATION" },
  applies = { interface = "coap" },
  category = "safe",
  parameters = { max_ratio = 10, token = "ampl" },
  probe = function(dut, t, params)
    local msg = {
      version = 1, type = 0, code = 1, mid = 0x5a5a, token = params.token,
      options = { { number = 11, value = ".well-known" }, { number = 11, value = "core" } },
    }
    local r, why = t.coap.raw(dut.coap, msg, { max_replies = 1 })
    if not r then
      return { error = why }
    end
    local rep = r.replies[1]
    local out = { request_bytes = r.bytes_sent, unreachable = r.unreachable }
    if rep then
      out.reply_bytes = rep.size
      out.reply_type = rep.type
      out.reply_code = rep.code
    else
      out.alive = t.coap.alive(dut.coap) == true
    end
    -- the whole body, block by block, for the record
    local d = t.coap.discover(dut.coap)
    if d then
      out.body_bytes = d.payload and #d.payload or 0
      out.exchanges = d.exchanges
    end
    return out
  end,
  judge = function(obs, dossier, params)
    if obs.error then
      return ERROR("the request was not sent: %s", obs.error)
    end
    if not obs.reply_bytes then
      if obs.alive then
        return PASS("a %d-byte NoSec GET /.well-known/core drew no answer (the device answers "
          .. "pings): ratio 0", obs.request_bytes)
      end
      return INCONCLUSIVE("a %d-byte NoSec GET /.well-known/core drew no answer and the device does "
        .. "not answer pings: is it up?", obs.request_bytes)
    end
    local ratio = obs.reply_bytes / obs.request_bytes
    local whole = ""
    if obs.body_bytes and obs.exchanges and obs.exchanges > 1 then
      whole = string.format("; the whole resource is %d bytes in %d blocks", obs.body_bytes,
        obs.exchanges)
    end
    local text = string.format("a %d-byte NoSec GET /.well-known/core draws a %d-byte %s %s "
      .. "datagram: ratio %.1f (limit %g)%s", obs.request_bytes, obs.reply_bytes,
      tostring(obs.reply_type), tostring(obs.reply_code), ratio, params.max_ratio, whole)
    if ratio > params.max_ratio then
      return FAIL("%s", text)
    end
    return PASS("%s", text)
  end,
}
