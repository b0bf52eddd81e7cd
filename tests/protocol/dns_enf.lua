-- dns_enf.lua - the default policy with DNS and SPF on, against the
-- private DNS server of dns.sh (zone tests/infra/zone.conf): domains on no
-- list, caught by their infrastructure.  Globals from dns.sh: libdir,
-- socket.
dofile(libdir .. "/lib.lua")

local conn = connect()
local st, r

-- On no list; its MX is a strongly fingerprinted host: the envelope alone
-- decides, so the message ends at MAIL.
st, r = message(conn, { qid = "PD01", from = "<xqn1@fresh-mx.test>",
    headers = { { "From", "xqn1@fresh-mx.test" } } })
expect_stop("PD01 envelope on fingerprinted MX", st, r, "mail",
    SMFIR_REPLYCODE)

-- Clean envelope; the From domain is caught by its name server, at EOH.
st, r = message(conn, { qid = "PD02", from = "<xqn2@clean.test>",
    headers = { { "From", "xqn2f@fresh-ns.test" },
        { "Subject", "ns" } } })
expect_stop("PD02 From on fingerprinted NS", st, r, "eoh",
    SMFIR_REPLYCODE)

-- Weak signals only: suspicious, tagged by default.
st, r = message(conn, { qid = "PD03", from = "<xqn3@clean.test>",
    headers = { { "From", "xqn3f@weak-only.test" } } })
expect_pass("PD03 From on weak-only infrastructure", st, r)
ok(tagged(conn, "suspicious; role=from; match=mx:*.mx.shared-routing.test"),
    "PD03 tag 'suspicious; role=from; match=mx:*.mx.shared-routing.test'")
mt.disconnect(conn)

conn = connect()
-- SERVFAIL for everything: unknown, and a DNS problem never refuses mail.
st, r = message(conn, { qid = "PD04", from = "<xqn4@x.servfail.test>",
    client = "198.51.100.1",
    headers = { { "From", "xqn4@x.servfail.test" } } })
expect_pass("PD04 envelope domain answering SERVFAIL", st, r)
ok(not any_change(conn), "PD04 SERVFAIL: no header added or changed")

-- Allowlisted, on fingerprinted infrastructure: decided by the lists,
-- so no query at all (not even SPF's).
st, r = message(conn, { qid = "PD05", from = "<xqn5@goodcorp.test>",
    client = "198.51.100.1",
    headers = { { "From", "xqn5@goodcorp.test" } } })
expect_pass("PD05 allowlisted domain on fingerprinted MX", st, r)
ok(not any_change(conn), "PD05 allowlisted: no header added or changed")

-- A CIDR-caught domain, looked up for the first time (dns.sh then sends
-- it again on another connection and counts the queries).
st, r = message(conn, { qid = "PD06", from = "<xqn6@fresh-cidr.test>" })
expect_stop("PD06 envelope caught by a CIDR range", st, r, "mail",
    SMFIR_REPLYCODE)
mt.disconnect(conn)

-- SPF of the client for the envelope domain: clean.test publishes
-- "v=spf1 ip4:192.0.2.250 -all".
conn = connect()
st, r = message(conn, { qid = "PS01", from = "<xqs1@clean.test>",
    client = "198.51.100.1", headers = { { "From", "xqs1@clean.test" } } })
expect_pass("PS01 clean envelope, client not in its SPF", st, r)
ok(not any_change(conn), "PS01 SPF fail alone changes nothing")
st, r = message(conn, { qid = "PS02", from = "<xqs2@clean.test>",
    client = "192.0.2.250", headers = { { "From", "xqs2@clean.test" } } })
expect_pass("PS02 clean envelope, client in its SPF", st, r)
-- A record with macros (CVE-2023-42118 territory) never reaches libspf2.
st, r = message(conn, { qid = "PS03", from = "<xqs3@spf-hostile.test>",
    client = "198.51.100.1",
    headers = { { "From", "xqs3@spf-hostile.test" } } })
expect_pass("PS03 envelope with a hostile SPF record", st, r)
-- libspf2 passes every client in 127.0.0.0/8 ("localhost" rule).
st, r = message(conn, { qid = "PS04", from = "<xqs4@clean.test>",
    client = "127.0.0.1", headers = { { "From", "xqs4@clean.test" } } })
expect_pass("PS04 loopback client", st, r)
-- No client address macro: no SPF at all.
st, r = message(conn, { qid = "PS05", from = "<xqs5@clean.test>",
    headers = { { "From", "xqs5@clean.test" } } })
expect_pass("PS05 no client address", st, r)
-- SPF fails for the envelope, the From decides: the log keeps the SPF.
st, r = message(conn, { qid = "PS06", from = "<xqs6@clean.test>",
    client = "198.51.100.1",
    headers = { { "From", "xqs6f@fresh-ns.test" } } })
expect_stop("PS06 SPF fail on envelope, From on fingerprinted NS", st, r,
    "eoh", SMFIR_REPLYCODE)
mt.disconnect(conn)
done()
