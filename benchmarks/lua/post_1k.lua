-- wrk script: every request is a keep-alive POST with the same 1 KiB body.
-- wrk adds Content-Length itself because a body is set.
wrk.method = "POST"
wrk.body = string.rep("a", 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
