-- loader.lua: shared by the test cases' judge tests (<kind>/tests/judges.lua).
-- Loads test-case files as the runtime does: the verdict constructors, the
-- profiles' lib (through require) and data (through load_data) in scope.
-- Returns the test cases by id, the verdict library and require.
--   local cases = dofile(root .. "/testcases/tests/loader.lua")(root, "mqtt", { "tls", ... })
return function(root, kind, files)
  local function load_data(name)
    return assert(loadfile(root .. "/data/" .. name .. ".lua", "t", {}))()
  end
  local function load_lib(name)
    local env = setmetatable({ load_data = load_data }, { __index = _G })
    return assert(loadfile(root .. "/lib/" .. name .. ".lua", "t", env))()
  end
  local verdict = load_lib("verdict")
  local cases = {}
  local env = setmetatable({
    testcase = function(tc) cases[tc.id] = tc end,
    require = load_lib,
    load_data = load_data,
  }, { __index = function(_, k) return verdict[k] or _G[k] end })
  for _, f in ipairs(files) do
    assert(loadfile(root .. "/testcases/" .. kind .. "/" .. f .. ".lua", "t", env))()
  end
  return cases, verdict, load_lib
end
