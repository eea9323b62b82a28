-- verdict.lua: the verdict constructors a judge returns (DESIGN.md, Verdicts).
--
-- Each takes a format string and its arguments, like string.format, and
-- returns { verdict = "...", rationale = "...", resolve = nil | "assessor" }.
-- The runtime preloads them as globals in every test-case file, and checks
-- the judge's return value in C: a rationale is required for every verdict,
-- and NOT_APPLICABLE without a reason is an ERROR.
local M = {}

local function rationale(name, fmt, ...)
  if type(fmt) ~= "string" or fmt == "" then
    error(name .. " needs a rationale (a format string)", 3)
  end
  if select("#", ...) == 0 then
    return fmt
  end
  return string.format(fmt, ...)
end

local function constructor(verdict, resolve)
  return function(fmt, ...)
    return { verdict = verdict, rationale = rationale(verdict, fmt, ...), resolve = resolve }
  end
end

M.PASS = constructor("PASS")
M.FAIL = constructor("FAIL")
M.INCONCLUSIVE = constructor("INCONCLUSIVE")
M.NOT_APPLICABLE = constructor("NOT_APPLICABLE")
M.ERROR = constructor("ERROR")
-- An item a person must decide: INCONCLUSIVE with resolve = "assessor".
M.ASSESSOR = constructor("INCONCLUSIVE", "assessor")

return M
