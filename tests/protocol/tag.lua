-- tag.lua - ActionDisposable tag: nothing rejected, the decisive address
-- named in the tag header.  Globals from run.sh: libdir, socket.
dofile(libdir .. "/lib.lua")

local conn = connect()
local st, r

st, r = message(conn, { qid = "PT01", from = "<xqzt1@example.org>",
    headers = { { "From", "xqzt1@example.org" },
        { "Reply-To", "xqzt1r@mailinator.com" } } })
expect_pass("PT01 disposable Reply-To under tag", st, r)
ok(tagged(conn, "disposable; role=reply-to; match=mailinator.com"),
    "PT01 tag 'disposable; role=reply-to; match=mailinator.com'")

st, r = message(conn, { qid = "PT02", from = "<xqzt2@mailinator.com>",
    headers = { { "From", "xqzt2@example.org" } } })
expect_pass("PT02 disposable envelope under tag", st, r)
ok(tagged(conn, "disposable; role=envelope; match=mailinator.com"),
    "PT02 tag 'disposable; role=envelope; match=mailinator.com'")

-- Relay envelope and disposable From: both tag; disposable is the more
-- severe category.
st, r = message(conn, { qid = "PT03", from = "<xqzt3@relay.test>",
    headers = { { "From", "xqzt3f@tempmail.test" } } })
expect_pass("PT03 relay envelope + disposable From", st, r)
ok(tagged(conn, "disposable; role=from; match=tempmail.test"),
    "PT03 tag names the disposable From")

-- Deep subdomain: the tag names the list entry that matched.
st, r = message(conn, { qid = "PT04", from = "<xqzt4@example.org>",
    headers = { { "From", "xqzt4@example.org" },
        { tagname, "forged" },
        { "Reply-To", "xqzt4r@a.b.mailinator.com" } } })
expect_pass("PT04 deep subdomain Reply-To with a forged tag", st, r)
ok(tagged(conn, "disposable; role=reply-to; match=mailinator.com"),
    "PT04 tag 'disposable; role=reply-to; match=mailinator.com'")
ok(mt.eom_check(conn, MT_HDRDELETE, tagname, 1),
    "PT04 forged tag header deleted")

st, r = message(conn, { qid = "PT05", from = "<xqzt5@example.org>",
    headers = { { "From", "xqzt5@example.org" } } })
expect_pass("PT05 clean under tag", st, r)
ok(not any_change(conn), "PT05 clean: no header added or changed")
mt.disconnect(conn)
done()
