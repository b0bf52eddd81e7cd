/*
 * test_listen.c - listen_nodelay (milter/listen.c): it finds the process's
 * listening TCP sockets, and only those, and the connections a listener
 * accepts afterwards come with Nagle off (the kernel's inheritance the
 * daemon relies on; without it a tagged message waits for the MTA's
 * delayed ACK).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "t.h"

static int
nodelay(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0)
		return -1;
	return v != 0;
}

int
main(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l, c, a, idle;

	/* A listener, and a bound TCP socket that does not listen. */
	l = socket(AF_INET, SOCK_STREAM, 0);
	idle = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || idle < 0 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l, 4) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) != 0)
		T_SKIP("no loopback TCP");
	CHECK_INT(nodelay(l), 0);
	CHECK_INT(listen_nodelay(), 1);
	CHECK_INT(nodelay(l), 1);
	CHECK_INT(nodelay(idle), 0);

	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_INT(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	a = accept(l, NULL, NULL);
	CHECK(a >= 0);
	CHECK_INT(nodelay(a), 1);
	CHECK_INT(nodelay(c), 0);	/* the client's is its own */
	close(a);
	close(c);
	close(idle);
	close(l);
	CHECK_INT(listen_nodelay(), 0);
	return T_DONE();
}
