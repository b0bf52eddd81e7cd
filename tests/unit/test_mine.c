/*
 * test_mine - proposals from shared infrastructure: the count threshold,
 * the allowlist veto, the order, the sample domains, and what an implicit
 * MX does not give.
 */
#include "config.h"

#include <arpa/inet.h>

#include "mine.h"
#include "t.h"

static struct infra
fake(const char *mx, const char *ip, const char *ns, int implicit)
{
	static int serial;
	struct infra inf;

	memset(&inf, 0, sizeof(inf));
	snprintf(inf.domain, sizeof(inf.domain), "d%d.test", serial++);
	if (mx != NULL)
		snprintf(inf.mx[inf.nmx++], DNS_NAME_MAX, "%s", mx);
	if (ip != NULL) {
		inf.addr[0].family = AF_INET;
		inet_pton(AF_INET, ip, &inf.addr[0].u.v4);
		inf.naddr = 1;
	}
	if (ns != NULL)
		snprintf(inf.ns[inf.nns++], DNS_NAME_MAX, "%s", ns);
	inf.implicit_mx = implicit;
	return inf;
}

int
main(void)
{
	struct mine *m = mine_new();
	struct mine_proposal *p;
	struct infra inf;
	size_t n;

	CHECK(m != NULL);
	/* Four listed domains on one provider's MX and address ... */
	for (int i = 0; i < 4; i++) {
		inf = fake("mx.burner.test", "192.0.2.7", "ns.shared.test", 0);
		CHECK_INT(mine_add(m, &inf, 0), 0);
	}
	/* ... three on another, whose name server an allowed domain uses. */
	for (int i = 0; i < 3; i++) {
		inf = fake("in.other.test", "198.51.100.9", "ns.bigdns.test", 0);
		CHECK_INT(mine_add(m, &inf, 0), 0);
	}
	inf = fake("mx.goodmail.test", NULL, "ns.bigdns.test", 0);
	CHECK_INT(mine_add(m, &inf, 1), 0);
	/* Two on a third: under the threshold. */
	for (int i = 0; i < 2; i++) {
		inf = fake("mx.rare.test", NULL, NULL, 0);
		CHECK_INT(mine_add(m, &inf, 0), 0);
	}
	/* Implicit MX addresses are never proposed. */
	for (int i = 0; i < 5; i++) {
		inf = fake(NULL, "203.0.113.5", NULL, 1);
		CHECK_INT(mine_add(m, &inf, 0), 0);
	}

	CHECK_INT(mine_result(m, 3, &p, &n), 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		/* Most shared first; ties by kind (mx, ns, ip) then value. */
		CHECK_INT(p[0].kind, FP_MX);
		CHECK_STR(p[0].value, "mx.burner.test");
		CHECK_INT(p[0].listed, 4);
		CHECK_INT(p[0].nsample, 3);
		CHECK_STR(p[0].sample[0], "d0.test");
		CHECK_STR(p[0].sample[2], "d2.test");
		CHECK_INT(p[1].kind, FP_NS);
		CHECK_STR(p[1].value, "ns.shared.test");
		CHECK_INT(p[2].kind, FP_IP);
		CHECK_STR(p[2].value, "192.0.2.7");
		CHECK_STR(p[3].value, "in.other.test");
		CHECK_INT(p[3].listed, 3);
		CHECK_STR(p[4].value, "198.51.100.9");
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(strcmp(p[i].value, "ns.bigdns.test") != 0);
		CHECK(strcmp(p[i].value, "mx.rare.test") != 0);
		CHECK(strcmp(p[i].value, "203.0.113.5") != 0);
	}
	free(p);

	/* A lower threshold lets the rare one in; the veto still holds. */
	CHECK_INT(mine_result(m, 2, &p, &n), 0);
	CHECK_INT(n, 6);
	for (size_t i = 0; i < n; i++)
		CHECK(strcmp(p[i].value, "ns.bigdns.test") != 0);
	free(p);
	mine_free(m);

	/* Nothing added: nothing proposed. */
	m = mine_new();
	CHECK_INT(mine_result(m, 1, &p, &n), 0);
	CHECK_INT(n, 0);
	free(p);
	mine_free(m);
	return T_DONE();
}
