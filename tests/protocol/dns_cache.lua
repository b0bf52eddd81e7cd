-- dns_cache.lua - one message on a connection of its own, for
-- dns-cache.sh, which sends many and reads the metrics between them.
-- Globals from dns-cache.sh: libdir, socket, qid, from (MAIL FROM),
-- client ({client_addr}), hfrom (the From field; "" for none), want
-- ("pass", or the stage where the message must be refused: "mail",
-- "eoh").
dofile(libdir .. "/lib.lua")

local conn = connect()
local headers = {}
if hfrom ~= nil and hfrom ~= "" then
	table.insert(headers, { "From", hfrom })
end
local st, r = message(conn, { qid = qid, from = from, client = client,
    headers = headers })
if want == "pass" then
	expect_pass(qid .. " passed", st, r)
else
	expect_stop(qid .. " refused", st, r, want, SMFIR_REPLYCODE)
end
mt.disconnect(conn)
done()
