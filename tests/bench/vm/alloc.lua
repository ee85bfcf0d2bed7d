-- alloc.lua — bench peer of alloc.pasm: 3 million small objects.
local s = 0
for i = 0, 2999999 do
  local p = { x = i, y = i + 1 }
  s = s + ((p.x + p.y) & 1023)
end
print(s)
