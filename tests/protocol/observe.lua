-- observe.lua - Mode observe: decisions logged, nothing changed.
-- Globals from run.sh: libdir, socket.
dofile(libdir .. "/lib.lua")

local conn = connect()
local st, r

st, r = message(conn, { qid = "PO01", from = "<xqzo1@mailinator.com>",
    headers = { { "From", "xqzo1@mailinator.com" } } })
expect_pass("PO01 disposable envelope in observe mode", st, r)
ok(not any_change(conn), "PO01 observe: no header added or changed")

st, r = message(conn, { qid = "PO02", from = "<xqzo2@example.org>",
    headers = { { "From", "xqzo2@example.org" },
        { "Reply-To", "xqzo2r@tempmail.test" },
        { tagname, "forged" } } })
expect_pass("PO02 disposable Reply-To in observe mode", st, r)
ok(not any_change(conn),
    "PO02 observe: forged tag left alone, nothing added")

st, r = message(conn, { qid = "PO03", from = "<xqzo3@relay.test>" })
expect_pass("PO03 relay envelope in observe mode", st, r)
ok(not any_change(conn), "PO03 observe: no tag added")
mt.disconnect(conn)
done()
