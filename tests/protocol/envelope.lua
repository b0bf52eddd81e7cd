-- envelope.lua - the envelope sender, default policy (disposable reject,
-- relay tag).  Globals from run.sh: libdir, socket.
dofile(libdir .. "/lib.lua")

local conn = connect()
local st, r

st, r = message(conn, { qid = "PE01", from = "<xqze1@mailinator.com>",
    headers = { { "From", "xqze1@mailinator.com" } } })
expect_stop("PE01 disposable envelope", st, r, "mail", SMFIR_REPLYCODE)

-- Same connection, next transaction: a subdomain, in upper case.
st, r = message(conn, { qid = "PE02", from = "<xqze2@MX.Mailinator.COM>" })
expect_stop("PE02 subdomain of a listed domain, mixed case", st, r,
    "mail", SMFIR_REPLYCODE)

-- Same connection after two rejects: a clean message passes untouched.
st, r = message(conn, { qid = "PE03", from = "<xqze3@example.org>",
    headers = { { "From", "Clean Sender <xqze3@example.org>" },
        { "Subject", "hello" } } })
expect_pass("PE03 clean after rejects on the same connection", st, r)
ok(not any_change(conn), "PE03 clean: no header added or changed")

-- ESMTP parameters after the address.
st, r = message(conn, { qid = "PE04", from = "<xqze4@tempmail.test>",
    args = { "SIZE=1234", "BODY=8BITMIME" } })
expect_stop("PE04 disposable envelope with ESMTP parameters", st, r,
    "mail", SMFIR_REPLYCODE)
mt.disconnect(conn)

-- The bare form non-smtpd milters (Postfix cleanup, Sendmail) receive.
conn = connect()
st, r = message(conn, { qid = "PE05", from = "xqze5@tempmail.test" })
expect_stop("PE05 bare envelope address (non-smtpd form)", st, r,
    "mail", SMFIR_REPLYCODE)

-- Null sender, both forms: never classified, not even by accident.
st, r = message(conn, { qid = "PE06", from = "<>",
    headers = { { "From", "MAILER-DAEMON <xqze6@example.org>" } } })
expect_pass("PE06 null sender <>", st, r)
ok(not any_change(conn), "PE06 null sender: no header added or changed")
st, r = message(conn, { qid = "PE07", from = "",
    headers = { { "From", "xqze7@example.org" } } })
expect_pass("PE07 null sender as empty string (non-smtpd form)", st, r)

-- Allowlisted subdomain of a listed domain, and one below it.
st, r = message(conn, { qid = "PE08", from = "<xqze8@good.mailinator.com>",
    headers = { { "From", "xqze8@good.mailinator.com" } } })
expect_pass("PE08 allowlisted subdomain", st, r)
ok(not any_tag_added(conn), "PE08 allowlisted: no tag header")
st, r = message(conn, { qid = "PE09", from = "<xqze9@a.good.mailinator.com>",
    headers = { { "From", "xqze9@a.good.mailinator.com" } } })
expect_pass("PE09 below an allowlisted subdomain", st, r)
ok(not any_tag_added(conn), "PE09 below allowlisted: no tag header")

-- Authenticated submission ({auth_authen} set): skipped entirely.
st, r = message(conn, { qid = "PE10", from = "<xqzea@mailinator.com>",
    auth = "xqzeauser",
    headers = { { "From", "xqzea@mailinator.com" },
        { "Reply-To", "xqzea@tempmail.test" } } })
expect_pass("PE10 authenticated disposable sender skipped", st, r)
ok(not any_tag_added(conn), "PE10 authenticated: no tag header")

-- Relay envelope: tagged by default, at end of message.
st, r = message(conn, { qid = "PE11", from = "<xqzeb@relay.test>",
    headers = { { "From", "xqzeb@relay.test" } } })
expect_pass("PE11 relay envelope", st, r)
ok(tagged(conn, "relay; role=envelope; match=relay.test"),
    "PE11 relay envelope: tag 'relay; role=envelope; match=relay.test'")

-- Envelope junk: not an address at all; the filter must not fail.
st, r = message(conn, { qid = "PE12", from = "<xqzec@@>",
    headers = { { "From", "xqzec@example.org" } } })
expect_pass("PE12 malformed envelope passes", st, r)
mt.disconnect(conn)
done()
