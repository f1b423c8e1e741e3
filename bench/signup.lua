-- wrk: POST a new sign-up each time (a distinct address per thread and request).
local counter = 0
local thread_tag = tostring(math.random(1, 1000000000))

request = function()
  counter = counter + 1
  local body = string.format(
    '{"name":"Personne %d","email":"p%s-%d@exemple.fr","attending_as":"resident","consent":true}',
    counter, thread_tag, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
