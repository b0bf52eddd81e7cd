-- identity.lua - one message per line of addrfile, its address as the
-- envelope sender, queue id PI<line number>.  Globals from identity.sh:
-- libdir, socket, addrfile.
dofile(libdir .. "/lib.lua")

local conn, st, r, n = connect(), nil, nil, 0
for a in io.lines(addrfile) do
	n = n + 1
	st, r = message(conn, { qid = string.format("PI%02d", n),
	    from = "<" .. a .. ">", headers = { { "Subject", "identity" } } })
	ok(st == "eom" or st == "mail",
	    string.format("PI%02d sent (%s)", n, st))
	if st == "mail" then
		mt.disconnect(conn)
		conn = connect()
	end
end
mt.disconnect(conn)
done()
