-- wrk: POST /v1/judge/pairwise with a pair never judged before on every request (the thread
-- number, a counter and $GAVEL_NONCE make each instruction unique), so each one runs the model.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local nonce = os.getenv("GAVEL_NONCE") or "0"
request = function()
  n = n + 1
  local body = string.format(
    '{"instruction": "Reply to message %s-%d-%d.", "A": "Thanks, noted: %d.", "B": "No."}',
    nonce, tid or 0, n, n)
  return wrk.format("POST", "/v1/judge/pairwise", {["Content-Type"] = "application/json"}, body)
end
