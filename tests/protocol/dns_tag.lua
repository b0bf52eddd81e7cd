-- dns_tag.lua - ActionDisposable tag with DNS and SPF on: the tag header
-- names the fingerprint that matched, and the client's SPF when the
-- client's address was known.  Globals from dns.sh: libdir, socket.
dofile(libdir .. "/lib.lua")

local conn = connect()
local st, r

st, r = message(conn, { qid = "PDT01", from = "<xqt1@fresh-mx.test>",
    headers = { { "From", "xqt1@fresh-mx.test" } } })
expect_pass("PDT01 fingerprinted envelope under tag", st, r)
ok(tagged(conn, "disposable; role=envelope; match=mx:in.example-temp.test"),
    "PDT01 tag 'disposable; role=envelope; match=mx:in.example-temp.test'")

-- With the client's address, SPF is evaluated; fresh-mx.test publishes
-- no SPF record: "none" is said, not left out.
st, r = message(conn, { qid = "PDT02", from = "<xqt2@fresh-mx.test>",
    client = "198.51.100.1",
    headers = { { "From", "xqt2@fresh-mx.test" } } })
expect_pass("PDT02 fingerprinted envelope, client known", st, r)
ok(tagged(conn,
    "disposable; role=envelope; match=mx:in.example-temp.test; spf=none"),
    "PDT02 tag '...; match=mx:in.example-temp.test; spf=none'")

-- A disposable domain whose SPF fails for the client: a forged
-- disposable sender, both facts in the tag.
st, r = message(conn, { qid = "PDT03", from = "<xqt3@fresh-spf.test>",
    client = "198.51.100.1",
    headers = { { "From", "xqt3@fresh-spf.test" } } })
expect_pass("PDT03 SPF-fingerprinted envelope, client not in it", st, r)
ok(tagged(conn,
    "disposable; role=envelope; match=spf:_spf.burner-spf.test; spf=fail"),
    "PDT03 tag '...; match=spf:_spf.burner-spf.test; spf=fail'")

-- A slow client: the headers come later than the whole DNS budget after
-- MAIL.  The budget counts DNS time, not the time the client takes, so
-- the From domain is still looked up.
st, r = message(conn, { qid = "PDT04", from = "<xqt4@clean.test>",
    client = "198.51.100.1", pause = 1.5,
    headers = { { "From", "xqt4f@fresh-addr.test" } } })
expect_pass("PDT04 slow client, From on a fingerprinted address", st, r)
ok(tagged(conn, "disposable; role=from; match=ip:198.51.100.77/32"),
    "PDT04 tag 'disposable; role=from; match=ip:198.51.100.77/32'")
mt.disconnect(conn)
done()
