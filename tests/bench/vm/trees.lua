-- trees.lua — bench peer of trees.pasm: binary-trees, depth 16, 4 times.
local function make(d)
  if d <= 0 then return {} end
  return { l = make(d - 1), r = make(d - 1) }
end
local function check(t)
  if not t.l then return 1 end
  return check(t.l) + check(t.r) + 1
end
local s = 0
for _ = 1, 4 do s = s + check(make(16)) end
print(s)
