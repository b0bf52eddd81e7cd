-- lib.lua - helpers shared by the miltertest scripts of tests/protocol.
--
-- Loaded by each script with dofile(libdir .. "/lib.lua"); run.sh passes
-- libdir and socket (and script-specific globals) with miltertest -D.
--
-- Output: one "ok - ..." or "not ok - ..." line per check on stdout,
-- which run.sh counts.  miltertest exits 1 without a word when error()
-- fires, so a broken step prints its reason (stderr and a "not ok" line)
-- and leaves with os.exit(1) instead.  Steps the filter negotiated away
-- are not sent (miltertest refuses them).

failures = 0

function ok(cond, desc)
	if cond then
		print("ok - " .. desc)
	else
		failures = failures + 1
		print("not ok - " .. desc)
	end
	return cond
end

function die(why)
	io.stderr:write(arg0 or "miltertest", ": ", why, "\n")
	print("not ok - " .. why)
	io.stdout:flush()
	os.exit(1)
end

function done()
	io.stdout:flush()
	os.exit(failures == 0 and 0 or 1)
end

-- A step's result: nil on success, else miltertest's error text.
local function step(what, r)
	if r ~= nil then
		die(what .. " failed: " .. tostring(r))
	end
end

-- Reply names for messages.
local names = {}
names[SMFIR_CONTINUE] = "continue"
names[SMFIR_ACCEPT] = "accept"
names[SMFIR_REJECT] = "reject"
names[SMFIR_TEMPFAIL] = "tempfail"
names[SMFIR_DISCARD] = "discard"
names[SMFIR_REPLYCODE] = "replycode"

function rname(r)
	return names[r] or ("'" .. string.char(r) .. "'")
end

-- Connect, negotiate, send the connection and HELO steps (unless
-- negotiated away).  Returns the connection.
function connect()
	local conn = mt.connect(socket, 40, 0.25)
	if conn == nil then
		die("mt.connect(" .. tostring(socket) .. ")")
	end
	step("mt.negotiate", mt.negotiate(conn, nil, nil, nil))
	if not mt.test_option(conn, SMFIP_NOCONNECT) then
		step("mt.conninfo", mt.conninfo(conn, "client.example.net",
		    "192.0.2.10"))
	end
	if not mt.test_option(conn, SMFIP_NOHELO) then
		step("mt.helo", mt.helo(conn, "client.example.net"))
	end
	return conn
end

-- Run one message as far as the filter lets it.
--   m.qid      queue id macro "i" (sent with the MAIL macros)
--   m.from     MAIL FROM argument ("<a@b>", "a@b", "<>", "")
--   m.args     ESMTP parameters after it (a table)
--   m.auth     {auth_authen} value, or nil
--   m.client   {client_addr} value (the SMTP client's address), or nil
--   m.pause    seconds to wait before the headers (a slow client), or nil
--   m.headers  { {name, value}, ... }
-- Returns the stage that ended it ("mail", "rcpt", "data", "header",
-- "eoh", "body", "eom") and the reply there.
function message(conn, m)
	local macros = { "i", m.qid }
	if m.auth ~= nil then
		table.insert(macros, "{auth_authen}")
		table.insert(macros, m.auth)
	end
	if m.client ~= nil then
		table.insert(macros, "{client_addr}")
		table.insert(macros, m.client)
	end
	mt.macro(conn, SMFIC_MAIL, table.unpack(macros))
	local r
	step(m.qid .. " mt.mailfrom",
	    mt.mailfrom(conn, m.from, table.unpack(m.args or {})))
	r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE then
		return "mail", r
	end
	if not mt.test_option(conn, SMFIP_NORCPT) then
		mt.macro(conn, SMFIC_RCPT, "i", m.qid)
		step(m.qid .. " mt.rcptto",
		    mt.rcptto(conn, "<rcpt@example.net>"))
		r = mt.getreply(conn)
		if r ~= SMFIR_CONTINUE then
			return "rcpt", r
		end
	end
	if not mt.test_option(conn, SMFIP_NODATA) then
		step(m.qid .. " mt.data", mt.data(conn))
		r = mt.getreply(conn)
		if r ~= SMFIR_CONTINUE then
			return "data", r
		end
	end
	if m.pause ~= nil then
		os.execute("sleep " .. m.pause)
	end
	if not mt.test_option(conn, SMFIP_NOHDRS) then
		for _, h in ipairs(m.headers or {}) do
			step(m.qid .. " mt.header " .. h[1],
			    mt.header(conn, h[1], h[2]))
			r = mt.getreply(conn)
			if r ~= SMFIR_CONTINUE then
				return "header", r
			end
		end
	end
	if not mt.test_option(conn, SMFIP_NOEOH) then
		step(m.qid .. " mt.eoh", mt.eoh(conn))
		r = mt.getreply(conn)
		if r ~= SMFIR_CONTINUE then
			return "eoh", r
		end
	end
	if not mt.test_option(conn, SMFIP_NOBODY) then
		step(m.qid .. " mt.bodystring",
		    mt.bodystring(conn, "test body\r\n"))
		r = mt.getreply(conn)
		if r ~= SMFIR_CONTINUE then
			return "body", r
		end
	end
	step(m.qid .. " mt.eom", mt.eom(conn))
	return "eom", mt.getreply(conn)
end

-- Checks on a message's outcome.
function expect_stop(desc, stage, r, want_stage, want_reply)
	return ok(stage == want_stage and r == want_reply,
	    desc .. ": " .. rname(want_reply) .. " at " .. want_stage ..
	    " (got " .. rname(r) .. " at " .. stage .. ")")
end

-- Passed to the end: eom answered continue or accept.
function expect_pass(desc, stage, r)
	return ok(stage == "eom" and
	    (r == SMFIR_CONTINUE or r == SMFIR_ACCEPT),
	    desc .. ": passed to end of message (got " .. rname(r) ..
	    " at " .. stage .. ")")
end

-- The tag header was added (insert or append) with exactly value.
function tagged(conn, value)
	return mt.eom_check(conn, MT_HDRINSERT, tagname, value) or
	    mt.eom_check(conn, MT_HDRADD, tagname, value)
end

function any_tag_added(conn)
	return mt.eom_check(conn, MT_HDRINSERT, tagname) or
	    mt.eom_check(conn, MT_HDRADD, tagname)
end

function any_change(conn)
	return mt.eom_check(conn, MT_HDRINSERT) or
	    mt.eom_check(conn, MT_HDRADD) or
	    mt.eom_check(conn, MT_HDRCHANGE)
end

tagname = tagname or "X-Disposable-Sender"
