-- calls.lua — bench peer of calls.pasm: 5 million method calls.
local Counter = {}
Counter.__index = Counter
function Counter:add(x) return x + self.step end
local c = setmetatable({ step = 3 }, Counter)
local acc = 0
for _ = 1, 5000000 do acc = c:add(acc) end
print(acc)
