-- dns_silent.lua - a daemon whose name server never answers: the message
-- still completes within the per-message budget and passes untouched.
-- Globals from dns.sh: libdir, socket.
dofile(libdir .. "/lib.lua")

local conn = connect()
-- Envelope and From on two different fresh domains and the client's SPF:
-- three lookups that all share one budget.
local st, r = message(conn, { qid = "PDS01",
    from = "<xqu1@fresh-mx.test>", client = "198.51.100.1",
    headers = { { "From", "xqu1f@fresh-addr.test" } } })
expect_pass("PDS01 DNS silent: message passes", st, r)
ok(not any_change(conn), "PDS01 DNS silent: no header added or changed")
mt.disconnect(conn)
done()
