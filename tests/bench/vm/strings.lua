-- strings.lua — bench peer of strings.pasm: 5000 concatenations.
local s = ""
for i = 0, 4999 do s = s .. (i % 10) .. "ab" end
print(#s)
