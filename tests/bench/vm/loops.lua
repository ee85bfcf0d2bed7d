-- loops.lua — bench peer of loops.pasm: nested loops, 3000 x 3000.
local s = 0
for i = 0, 2999 do
  for j = 0, 2999 do
    s = s + ((i + j) & 7)
  end
end
print(s)
