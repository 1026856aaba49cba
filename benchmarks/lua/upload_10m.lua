-- wrk script: every request is a keep-alive POST with a 10 MiB body.
-- The request is built once by wrk and reused, so the load generator
-- spends its time sending bytes, not building them.
wrk.method = "POST"
wrk.body = string.rep("u", 10 * 1024 * 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
