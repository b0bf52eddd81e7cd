-- caps.lua - many senders in one message, default policy (disposable
-- reject, ActionTruncated tag).  Globals from run.sh: libdir, socket.
--
-- The per-message bound counts distinct domains, not addresses: many
-- addresses at a few domains are all classified.  Where the bound is
-- reached all the same, the message gets ActionTruncated and its tag
-- says so.  (miltertest cannot send a header value over about 1 KB: it
-- copies it into a 1024-byte buffer on its stack.  Big fields are
-- tests/protocol/bigheaders.sh's.)
dofile(libdir .. "/lib.lua")

local conn, st, r, hdrs

-- n addresses "PREFIXi@DOMAIN", comma-separated, i from first.
local function addrs(first, n, prefix, domain)
	local t = {}
	for i = first, first + n - 1 do
		t[#t + 1] = prefix .. i .. "@" .. domain
	end
	return table.concat(t, ", ")
end

-- 320 clean addresses at one domain in 8 From fields, then a
-- disposable one: two domains, so the disposable one is classified.
conn = connect()
hdrs = {}
for f = 0, 7 do
	hdrs[#hdrs + 1] = { "From", addrs(f * 40 + 1, 40, "xqzcap",
	    "example.org") }
end
hdrs[#hdrs + 1] = { "From", "xqzc1d@mailinator.com" }
st, r = message(conn, { qid = "PC01", from = "<xqzc1@example.org>",
    headers = hdrs })
expect_stop("PC01 320 clean From addresses at one domain, then a " ..
    "disposable one", st, r, "eoh", SMFIR_REPLYCODE)
mt.disconnect(conn)

-- 300 Reply-To fields, each at its own clean domain, then a disposable
-- one: past the bound on distinct domains, so not classified; the
-- message gets ActionTruncated (tag) and the tag says truncated.
conn = connect()
hdrs = { { "From", "xqzc2@example.org" } }
for i = 1, 300 do
	hdrs[#hdrs + 1] = { "Reply-To", "xqzcap" .. i .. "@d" .. i ..
	    ".example.net" }
end
hdrs[#hdrs + 1] = { "Reply-To", "xqzc2d@mailinator.com" }
st, r = message(conn, { qid = "PC02", from = "<xqzc2@example.org>",
    headers = hdrs })
expect_pass("PC02 300 Reply-To domains, then a disposable one: " ..
    "not refused", st, r)
ok(tagged(conn, "clean; role=envelope; truncated"),
    "PC02 tag 'clean; role=envelope; truncated'")

-- The next message on the connection starts afresh: clean, no tag.
st, r = message(conn, { qid = "PC03", from = "<xqzc3@example.org>",
    headers = { { "From", "xqzc3@example.org" } } })
expect_pass("PC03 clean message after a truncated one", st, r)
ok(not any_tag_added(conn), "PC03 nothing carried over: no tag")

-- Within the bound, a disposable address among many domains is found
-- and decides: 40 Reply-To domains, then a disposable one.
hdrs = { { "From", "xqzc4@example.org" } }
for i = 1, 40 do
	hdrs[#hdrs + 1] = { "Reply-To", "xqzcap" .. i .. "@d" .. i ..
	    ".example.net" }
end
hdrs[#hdrs + 1] = { "Reply-To", "xqzc4d@mailinator.com" }
st, r = message(conn, { qid = "PC04", from = "<xqzc4@example.org>",
    headers = hdrs })
expect_stop("PC04 40 Reply-To domains, then a disposable one", st, r,
    "eoh", SMFIR_REPLYCODE)
mt.disconnect(conn)

-- A relay From, then more domains than the bound: the tag names the
-- relay and says truncated.
conn = connect()
hdrs = { { "From", "xqzc5@relay.test" } }
for i = 1, 100 do
	hdrs[#hdrs + 1] = { "Reply-To", "xqzcap" .. i .. "@d" .. i ..
	    ".example.net" }
end
st, r = message(conn, { qid = "PC05", from = "<xqzc5@example.org>",
    headers = hdrs })
expect_pass("PC05 relay From, 100 Reply-To domains", st, r)
ok(tagged(conn, "relay; role=from; match=relay.test; truncated"),
    "PC05 tag 'relay; role=from; match=relay.test; truncated'")
mt.disconnect(conn)
done()
