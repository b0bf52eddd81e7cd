-- dns_nodns.lua - DNS no with SPF yes: the lists alone, and no query
-- at all, not even for the client's SPF.  Globals from dns.sh: libdir,
-- socket.
dofile(libdir .. "/lib.lua")

local conn = connect()
local st, r = message(conn, { qid = "PN01", from = "<xqv1@no-mx.test>",
    client = "198.51.100.1", headers = { { "From", "xqv1@no-mx.test" } } })
expect_pass("PN01 DNS no: a fingerprinted domain passes on the lists", st, r)
ok(not any_change(conn), "PN01 DNS no: no header added or changed")
st, r = message(conn, { qid = "PN02", from = "<xqv2@listed-burner.test>",
    client = "198.51.100.1" })
expect_stop("PN02 DNS no: a listed domain is still refused", st, r, "mail",
    SMFIR_REPLYCODE)
mt.disconnect(conn)
done()
