-- format.lua: formatting helpers for rationales and observations.
--
--   format.hex(bytes)          -> lowercase hex of a byte string
--   format.printable(s [, n])  -> s with control and non-ASCII bytes as \xNN, cut at n (80)
--   format.list(items [, sep]) -> the items joined with sep (", "), each through tostring
--   format.count(n, one [, many]) -> "1 credential", "3 credentials"
local M = {}

function M.hex(bytes)
  return (bytes:gsub(".", function(c)
    return string.format("%02x", c:byte())
  end))
end

function M.printable(s, n)
  n = n or 80
  local out = s:gsub("[^\32-\126]", function(c)
    return string.format("\\x%02x", c:byte())
  end)
  if #out > n then
    out = out:sub(1, n) .. "..."
  end
  return out
end

function M.list(items, sep)
  local parts = {}
  for i, v in ipairs(items) do
    parts[i] = tostring(v)
  end
  return table.concat(parts, sep or ", ")
end

function M.count(n, one, many)
  return string.format("%d %s", n, n == 1 and one or (many or one .. "s"))
end

return M
