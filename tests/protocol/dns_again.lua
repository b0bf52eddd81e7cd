-- dns_again.lua - one message on a connection of its own, for a domain a
-- previous connection looked up already (the cache test of dns.sh).
-- Globals from dns.sh: libdir, socket, qid.
dofile(libdir .. "/lib.lua")

local conn = connect()
local st, r = message(conn, { qid = qid, from = "<xqn7@fresh-cidr.test>",
    headers = { { "From", "xqn7@fresh-cidr.test" } } })
expect_stop(qid .. " fresh-cidr.test again, another connection", st, r,
    "mail", SMFIR_REPLYCODE)
mt.disconnect(conn)
done()
