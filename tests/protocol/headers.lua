-- headers.lua - From, Sender and Reply-To, default policy.  Globals from
-- run.sh: libdir, socket.
dofile(libdir .. "/lib.lua")

local conn, st, r

-- A clean envelope with a disposable Reply-To: rejected at end of headers.
conn = connect()
st, r = message(conn, { qid = "PH01", from = "<xqzh1@example.org>",
    headers = { { "From", "xqzh1@example.org" },
        { "Reply-To", "Someone <xqzh1r@mailinator.com>" },
        { "Subject", "reply to me" } } })
expect_stop("PH01 disposable Reply-To", st, r, "eoh", SMFIR_REPLYCODE)
mt.disconnect(conn)

-- Several mailboxes in From, the second one disposable.
conn = connect()
st, r = message(conn, { qid = "PH02", from = "<xqzh2@example.org>",
    headers = { { "From",
        "\"Doe, Jane\" <xqzh2@example.org>, xqzh2b@tempmail.test" } } })
expect_stop("PH02 disposable second mailbox in From", st, r, "eoh",
    SMFIR_REPLYCODE)
mt.disconnect(conn)

-- Sender on a subdomain; folded Reply-To (bare LF, as libmilter gives it).
conn = connect()
st, r = message(conn, { qid = "PH03", from = "<xqzh3@example.org>",
    headers = { { "From", "xqzh3@example.org" },
        { "Sender", "<xqzh3s@in.tempmail.test>" } } })
expect_stop("PH03 disposable Sender subdomain", st, r, "eoh",
    SMFIR_REPLYCODE)
mt.disconnect(conn)
conn = connect()
st, r = message(conn, { qid = "PH04", from = "<xqzh4@example.org>",
    headers = { { "From", "xqzh4@example.org" },
        { "reply-to", "Some One\n\t<xqzh4r@mailinator.com>" } } })
expect_stop("PH04 folded lower-case reply-to", st, r, "eoh",
    SMFIR_REPLYCODE)
mt.disconnect(conn)

-- Relay From: tagged (default relay action); then a clean message on the
-- same connection carries nothing over.
conn = connect()
st, r = message(conn, { qid = "PH05", from = "<xqzh5@example.org>",
    headers = { { "From", "Alias <xqzh5f@relay.test>" } } })
expect_pass("PH05 relay From", st, r)
ok(tagged(conn, "relay; role=from; match=relay.test"),
    "PH05 relay From: tag 'relay; role=from; match=relay.test'")
st, r = message(conn, { qid = "PH06", from = "<xqzh6@example.org>",
    headers = { { "From", "xqzh6@example.org" },
        { "To", "xqzh6t@mailinator.com" } } })
expect_pass("PH06 clean (disposable To is not a sender)", st, r)
ok(not any_change(conn),
    "PH06 clean after a tagged message: no header added or changed")

-- Forged inbound tag headers (two) on a clean message: both deleted,
-- nothing added.
st, r = message(conn, { qid = "PH07", from = "<xqzh7@example.org>",
    headers = { { "From", "xqzh7@example.org" },
        { tagname, "clean; forged=1" },
        { "Subject", "forged" },
        { "x-disposable-sender", "disposable; role=from; match=forged.test" } } })
expect_pass("PH07 forged tag headers", st, r)
ok(mt.eom_check(conn, MT_HDRDELETE, tagname, 1),
    "PH07 forged tag header #1 deleted")
ok(mt.eom_check(conn, MT_HDRDELETE, tagname, 2),
    "PH07 forged tag header #2 deleted")
ok(not any_tag_added(conn), "PH07 clean: no tag header added")

-- Malformed From: no crash, passes; the connection still works after.
st, r = message(conn, { qid = "PH08", from = "<xqzh8@example.org>",
    headers = { { "From", "\"Unterminated <xqzh8f@@example..org" },
        { "Reply-To", "<<<>>>" } } })
expect_pass("PH08 malformed From and Reply-To", st, r)
st, r = message(conn, { qid = "PH09", from = "<xqzh9@example.org>",
    headers = { { "From", "(comment) xqzh9@example.org (another)" } } })
expect_pass("PH09 next message after a malformed one", st, r)

-- Forged tag plus a relay sender: the forged copy goes, ours comes.
st, r = message(conn, { qid = "PH10", from = "<xqzha@example.org>",
    headers = { { "From", "xqzha@relay.test" },
        { tagname, "clean" } } })
expect_pass("PH10 relay From with a forged tag", st, r)
ok(mt.eom_check(conn, MT_HDRDELETE, tagname, 1),
    "PH10 forged tag header deleted")
ok(tagged(conn, "relay; role=from; match=relay.test"),
    "PH10 own tag added")
mt.disconnect(conn)

-- A bounce: the null envelope sender, From a provider's MAILER-DAEMON at
-- a disposable domain.  Not rejected (NullSenderMaxAction tag): tagged.
conn = connect()
st, r = message(conn, { qid = "PH11", from = "<>",
    headers = { { "From", "Mail Delivery System <MAILER-DAEMON@mailinator.com>" },
        { "Subject", "Undelivered Mail Returned to Sender" } } })
expect_pass("PH11 bounce with a disposable From is not rejected", st, r)
ok(tagged(conn, "disposable; role=from; match=mailinator.com"),
    "PH11 bounce: tagged 'disposable; role=from; match=mailinator.com'")
mt.disconnect(conn)
done()
