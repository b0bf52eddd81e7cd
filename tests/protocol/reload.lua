-- reload.lua - SIGUSR1 reload while connections are open.  Globals from
-- run.sh: libdir, socket, reload_cmd (adds latecomer.test to the
-- disposable list, rebuilds the database, signals the daemon and waits
-- for it to log the reload).
dofile(libdir .. "/lib.lua")

local old = connect()
local st, r, conn

st, r = message(old, { qid = "PR01", from = "<xqzr1@latecomer.test>",
    headers = { { "From", "xqzr1@latecomer.test" } } })
expect_pass("PR01 latecomer.test clean before the reload", st, r)

local rc = os.execute(reload_cmd)
if rc ~= true and rc ~= 0 then
	die("reload command failed: " .. reload_cmd)
end

conn = connect()
st, r = message(conn, { qid = "PR02", from = "<xqzr2@latecomer.test>" })
expect_stop("PR02 latecomer.test rejected after the reload (new connection)",
    st, r, "mail", SMFIR_REPLYCODE)
mt.disconnect(conn)

st, r = message(old, { qid = "PR03", from = "<xqzr3@latecomer.test>" })
expect_stop("PR03 connection opened before the reload sees the new lists",
    st, r, "mail", SMFIR_REPLYCODE)
st, r = message(old, { qid = "PR04", from = "<xqzr4@example.org>",
    headers = { { "From", "xqzr4@example.org" } } })
expect_pass("PR04 connection opened before the reload still works", st, r)
st, r = message(old, { qid = "PR05", from = "<xqzr5@mailinator.com>" })
expect_stop("PR05 old entries still rejected after the reload", st, r,
    "mail", SMFIR_REPLYCODE)
mt.disconnect(old)
done()
