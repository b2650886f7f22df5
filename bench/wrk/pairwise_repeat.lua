-- wrk: POST /v1/judge/pairwise cycling through the bodies in $GAVEL_BODIES (one JSON per line),
-- pairs the store already holds.
local bodies = {}
for line in io.lines(os.getenv("GAVEL_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/judge/pairwise", {["Content-Type"] = "application/json"}, bodies[i])
end
