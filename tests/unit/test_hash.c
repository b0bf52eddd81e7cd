/*
 * test_hash.c - canonical forms, HMAC-SHA-256 against RFC 4231, SHA-256,
 * key files (permissions, syntax, generation, several keys, rotation).
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "t.h"

/* The text form of a hash, as the programs print it.  Every HMAC is
 * computed twice, from the key (unprepared) and from its precomputed
 * states (hash_key_prepare), and both must agree byte for byte. */
static int
hash_hex(const struct hash_key *k, const char *canonical, char *hex)
{
	unsigned char bin[HASH_LEN], pbin[HASH_LEN];
	struct hash_key p = *k;

	hex[0] = '\0';
	if (hash_bin(k, canonical, bin) != 0)
		return -1;
	if (k->mode == HASH_HMAC && !k->prepared) {
		CHECK_INT(hash_key_prepare(&p), 0);
		CHECK_INT(p.prepared, 1);
		CHECK_INT(hash_bin(&p, canonical, pbin), 0);
		CHECK(memcmp(bin, pbin, HASH_LEN) == 0);
	}
	hash_to_hex(bin, hex);
	return 0;
}

static char tmpdir[256];

static void
unhex(const char *hex, unsigned char *out, size_t *len)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	*len = n;
}

static void
set_key(struct hash_key *k, const unsigned char *key, size_t len)
{
	memset(k, 0, sizeof(*k));
	k->mode = HASH_HMAC;
	memcpy(k->key, key, len);
	k->keylen = len;
}

static char *
repeat(int c, size_t n)
{
	static char buf[256];

	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void
test_rfc4231(void)
{
	struct hash_key k;
	unsigned char key[HASH_KEY_MAX];
	char hex[HASH_HEX_LEN + 1], big[132];
	size_t len;

	/* Test case 1 */
	memset(key, 0x0b, 20);
	set_key(&k, key, 20);
	CHECK_INT(hash_hex(&k, "Hi There", hex), 0);
	CHECK_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");

	/* Test case 2 */
	set_key(&k, (const unsigned char *)"Jefe", 4);
	CHECK_INT(hash_hex(&k, "what do ya want for nothing?", hex), 0);
	CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");

	/* Test case 3 */
	memset(key, 0xaa, 20);
	set_key(&k, key, 20);
	CHECK_INT(hash_hex(&k, repeat(0xdd, 50), hex), 0);
	CHECK_STR(hex, "773ea91e36800e46854db8ebd09181a7"
	    "2959098b3ef8c122d9635514ced565fe");

	/* Test case 4 */
	for (int i = 0; i < 25; i++)
		key[i] = (unsigned char)(i + 1);
	set_key(&k, key, 25);
	CHECK_INT(hash_hex(&k, repeat(0xcd, 50), hex), 0);
	CHECK_STR(hex, "82558a389a443c0ea4cc819899f2083a"
	    "85f0faa3e578f8077a2e3ff46729665b");

	/*
	 * Test cases 6 and 7 use a 131-byte key, more than HASH_KEY_MAX.
	 * HMAC (RFC 2104) first replaces a key longer than the block with
	 * its SHA-256, so the same MAC comes from the 32-byte digest of the
	 * key: computed here with our own SHA-256 mode, which this also
	 * checks.
	 */
	memset(big, 0xaa, 131);
	big[131] = '\0';
	k.mode = HASH_SHA256;
	CHECK_INT(hash_hex(&k, big, hex), 0);
	CHECK_STR(hex, "45ad4b37c6e2fc0a2cfcc1b5da524132"
	    "ec707615c2cae1dbbc43c97aa521db81");
	unhex(hex, key, &len);
	CHECK_INT(len, 32);
	set_key(&k, key, len);
	CHECK_INT(hash_hex(&k, "Test Using Larger Than Block-Size Key - "
	    "Hash Key First", hex), 0);
	CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	CHECK_INT(hash_hex(&k, "This is a test using a larger than "
	    "block-size key and a larger than block-size data. The key "
	    "needs to be hashed before being used by the HMAC algorithm.",
	    hex), 0);
	CHECK_STR(hex, "9b09ffa71b942fcb27635fbcd5b0e944"
	    "bfdc63644f0713938a7f51535c3a35e2");

	/* The mode decides, not the key: a key present in SHA-256 mode is
	 * ignored. */
	k.mode = HASH_SHA256;
	CHECK_INT(hash_hex(&k, "abc", hex), 0);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	CHECK_INT(hash_hex(&k, "", hex), 0);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");

	/* An impossible key length or mode is an error, not a read past
	 * the key. */
	k.mode = HASH_HMAC;
	k.keylen = HASH_KEY_MAX + 1;
	CHECK_INT(hash_hex(&k, "abc", hex), -1);
	k.keylen = 4;
	k.mode = (enum hash_mode)7;
	CHECK_INT(hash_hex(&k, "abc", hex), -1);
}

static void
test_canonical(void)
{
	char out[HASH_CANON_MAX], big[HASH_CANON_MAX + 8];

	CHECK_INT(hash_canonical("Foo+news", "example.com", '+', out), 0);
	CHECK_STR(out, "foo@example.com");
	/* Only the first separator counts. */
	CHECK_INT(hash_canonical("a+b+c", "example.com", '+', out), 0);
	CHECK_STR(out, "a@example.com");
	CHECK_INT(hash_canonical("Foo+news", "example.com", '-', out), 0);
	CHECK_STR(out, "foo+news@example.com");
	CHECK_INT(hash_canonical("foo-bar-baz", "example.com", '-', out), 0);
	CHECK_STR(out, "foo@example.com");
	CHECK_INT(hash_canonical("Foo+news", "example.com", '\0', out), 0);
	CHECK_STR(out, "foo+news@example.com");
	/* Nothing would be left: kept whole. */
	CHECK_INT(hash_canonical("+only", "example.com", '+', out), 0);
	CHECK_STR(out, "+only@example.com");
	CHECK_INT(hash_canonical("+", "example.com", '+', out), 0);
	CHECK_STR(out, "+@example.com");
	/* A trailing separator leaves the part before it. */
	CHECK_INT(hash_canonical("joe+", "example.com", '+', out), 0);
	CHECK_STR(out, "joe@example.com");
	CHECK_INT(hash_canonical("JOHN.SMITH_Z", "example.org", '+', out), 0);
	CHECK_STR(out, "john.smith_z@example.org");
	/* UTF-8 bytes are kept; only A-Z is folded. */
	CHECK_INT(hash_canonical("J\xc3\x96rg+x", "xn--bcher-kva.example",
	    '+', out), 0);
	CHECK_STR(out, "j\xc3\x96rg@xn--bcher-kva.example");
	CHECK_INT(hash_canonical("", "example.com", '+', out), 0);
	CHECK_STR(out, "@example.com");

	/* Boundary: local + '@' + domain + NUL = HASH_CANON_MAX fits,
	 * one more byte does not. */
	memset(big, 'a', sizeof(big));
	big[HASH_CANON_MAX - 1 - 1 - 11] = '\0';	/* "@example.com" */
	CHECK_INT(hash_canonical(big, "example.com", '+', out), 0);
	CHECK_INT(strlen(out), HASH_CANON_MAX - 1);
	memset(big, 'a', sizeof(big));
	big[HASH_CANON_MAX - 1 - 11] = '\0';
	CHECK_INT(hash_canonical(big, "example.com", '+', out), -1);
	/* ... unless the subaddress removal makes it fit. */
	big[10] = '+';
	CHECK_INT(hash_canonical(big, "example.com", '+', out), 0);
	CHECK_STR(out, "aaaaaaaaaa@example.com");
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
	CHECK_INT(chmod(path, mode), 0);
}

#define KEY64 "000102030405060708090a0b0c0d0e0f" \
	"101112131415161718191a1b1c1d1e1f"

static void
test_keyfile(void)
{
	struct hash_key k, k2;
	char path[512], path2[512], want[2048], err[2048];
	char hex[HASH_HEX_LEN + 1], hex2[HASH_HEX_LEN + 1];
	struct stat st;

	snprintf(path, sizeof(path), "%s/key", tmpdir);

	/* Mode 0644: refused with the remedy. */
	write_file(path, KEY64 "\n", 0644);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: readable or writable by group or "
	    "others (mode 0644); chmod 600 %s", path, path);
	CHECK_STR(err, want);
	write_file(path, KEY64 "\n", 0620);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	CHECK(strstr(err, "(mode 0620)") != NULL);
	write_file(path, KEY64 "\n", 0602);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);

	/* Mode 0600 (and 0400): accepted, key decoded. */
	write_file(path, KEY64 "\n", 0600);
	memset(&k, 0xff, sizeof(k));
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK_INT(k.mode, HASH_HMAC);
	CHECK_INT(k.keylen, 32);
	CHECK_INT(k.key[0], 0x00);
	CHECK_INT(k.key[17], 0x11);
	CHECK_INT(k.key[31], 0x1f);
	CHECK_INT(k.key[32], 0);
	/* Loaded keys come prepared, and hash as the key itself does. */
	CHECK_INT(k.prepared, 1);
	{
		struct hash_key u = k;
		unsigned char a[HASH_LEN], b[HASH_LEN];

		u.prepared = 0;
		CHECK_INT(hash_bin(&k, "someone@example.com", a), 0);
		CHECK_INT(hash_bin(&u, "someone@example.com", b), 0);
		CHECK(memcmp(a, b, HASH_LEN) == 0);
	}
	write_file(path, KEY64, 0400);		/* no final newline */
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK_INT(k.keylen, 32);

	/* Comments, blank lines, white space, upper-case hex, CRLF. */
	write_file(path, "# a comment\n\n   \t\n  # another\r\n"
	    "  " "FFEEDDCCBBAA99887766554433221100"
	    "ffeeddccbbaa99887766554433221100" "  \r\n# after\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK_INT(k.keylen, 32);
	CHECK_INT(k.key[0], 0xff);
	CHECK_INT(k.key[31], 0x00);

	/* Longest key: HASH_KEY_MAX bytes; one byte more is refused. */
	write_file(path, KEY64 KEY64 "\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK_INT(k.keylen, HASH_KEY_MAX);
	write_file(path, KEY64 KEY64 "00\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: key too long (130 hex digits, "
	    "at most 128)", path);
	CHECK_STR(err, want);

	/* Short key: refused with its line number. */
	write_file(path, "# key\n\n  deadbeef\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: key too short (8 hex digits, "
	    "need at least 64)", path);
	CHECK_STR(err, want);
	/* 62 digits: one byte short. */
	write_file(path, "\n" "000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	CHECK(strstr(err, ":2: key too short (62 hex") != NULL);

	write_file(path, "#\n" KEY64 "0\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: key has an odd number of hex "
	    "digits (65)", path);
	CHECK_STR(err, want);

	write_file(path, "0001020304050607 08090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: key is not hexadecimal "
	    "(column 17)", path);
	CHECK_STR(err, want);

	write_file(path, "# only a comment\n\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	CHECK(strncmp(err, path, strlen(path)) == 0);
	CHECK(strstr(err, "no key") != NULL);
	write_file(path, "", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	CHECK(strstr(err, "no key") != NULL);

	/* Missing file, and a directory. */
	snprintf(path2, sizeof(path2), "%s/nonexistent", tmpdir);
	CHECK_INT(hash_key_load(path2, &k, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path2);
	CHECK_STR(err, want);
	CHECK_INT(hash_key_load(tmpdir, &k, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	CHECK_STR(err, want);
	CHECK_INT(hash_key_load("/dev/null", &k, err, sizeof(err)), -1);
	CHECK_STR(err, "/dev/null: not a regular file");

	/* Generate, then load: a 32-byte key in a 0600 file. */
	unlink(path);
	CHECK_INT(hash_key_generate(path, err, sizeof(err)), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK(S_ISREG(st.st_mode));
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK_INT(k.mode, HASH_HMAC);
	CHECK_INT(k.keylen, 32);
	CHECK_INT(hash_hex(&k, "foo@example.com", hex), 0);
	CHECK_INT(strlen(hex), HASH_HEX_LEN);
	CHECK(strspn(hex, "0123456789abcdef") == HASH_HEX_LEN);

	/* Never overwrites: the key stays the same. */
	CHECK_INT(hash_key_generate(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: File exists", path);
	CHECK_STR(err, want);
	CHECK_INT(hash_key_load(path, &k2, err, sizeof(err)), 0);
	CHECK_INT(hash_hex(&k2, "foo@example.com", hex2), 0);
	CHECK_STR(hex, hex2);

	/* A second key is another key. */
	snprintf(path2, sizeof(path2), "%s/key2", tmpdir);
	CHECK_INT(hash_key_generate(path2, err, sizeof(err)), 0);
	CHECK_INT(hash_key_load(path2, &k2, err, sizeof(err)), 0);
	CHECK(memcmp(k.key, k2.key, 32) != 0);
	CHECK_INT(hash_hex(&k2, "foo@example.com", hex2), 0);
	CHECK(strcmp(hex, hex2) != 0);

	/* Not into a missing directory, and not through a dangling
	 * symlink. */
	snprintf(path2, sizeof(path2), "%s/nodir/key", tmpdir);
	CHECK_INT(hash_key_generate(path2, err, sizeof(err)), -1);
	CHECK(strstr(err, "No such file or directory") != NULL);
	snprintf(path2, sizeof(path2), "%s/link", tmpdir);
	snprintf(want, sizeof(want), "%s/target", tmpdir);
	CHECK_INT(symlink(want, path2), 0);
	CHECK_INT(hash_key_generate(path2, err, sizeof(err)), -1);
	CHECK_INT(access(want, F_OK), -1);

	unlink(path2);
	unlink(path);
	snprintf(path, sizeof(path), "%s/key2", tmpdir);
	unlink(path);
}

#define KEYB "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf" \
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define KEYC "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf" \
	"d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"

/* Read a whole (small) file into buf; its length, or -1. */
static long
slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (long)n;
}

/* Number of entries in dir (besides . and ..). */
static int
count_entries(const char *dir)
{
	char cmd[600], out[64];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(out, sizeof(out), p) != NULL)
		n = atoi(out);
	pclose(p);
	return n;
}

static void
test_keyring(void)
{
	struct hash_keyring r;
	struct hash_key k;
	char path[512], want[2048], err[2048], text[8192], before[8192];
	char hex[HASH_HEX_LEN + 1], hex2[HASH_HEX_LEN + 1];
	struct stat st;
	long n;

	snprintf(path, sizeof(path), "%s/ring", tmpdir);

	/* Several keys with ids: all read, in file order; the last one is
	 * what hash_key_load gives. */
	write_file(path, "# keys\n0 " KEY64 "\n\n  3\t" KEYB "  \n"
	    "# retired above\n7 " KEYC "\n", 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), 0);
	CHECK_INT(r.n, 3);
	CHECK_INT(r.k[0].id, 0);
	CHECK_INT(r.k[1].id, 3);
	CHECK_INT(r.k[2].id, 7);
	CHECK_INT(r.k[0].key[1], 0x01);
	CHECK_INT(r.k[1].key[0], 0xb0);
	CHECK_INT(r.k[2].key[31], 0xdf);
	CHECK_INT(r.k[2].keylen, 32);
	CHECK_INT(r.k[2].mode, HASH_HMAC);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK_INT(k.key[0], 0xc0);
	CHECK_INT(k.key[31], 0xdf);
	CHECK_INT(hash_hex(&k, "foo@example.com", hex), 0);
	CHECK_INT(hash_hex(&r.k[2], "foo@example.com", hex2), 0);
	CHECK_STR(hex, hex2);
	CHECK_INT(hash_hex(&r.k[0], "foo@example.com", hex2), 0);
	CHECK(strcmp(hex, hex2) != 0);

	/* Newest is the last line, not the highest id. */
	write_file(path, "9 " KEYB "\n2 " KEYC "\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK_INT(k.key[0], 0xc0);

	/* A bare key is id 0, so beside "0 HEX" it is a duplicate. */
	write_file(path, KEY64 "\n1 " KEYB "\n", 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), 0);
	CHECK_INT(r.n, 2);
	CHECK_INT(r.k[0].id, 0);
	CHECK_INT(r.k[1].id, 1);
	write_file(path, KEY64 "\n#\n0 " KEYB "\n", 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: duplicate key id 0 (first on "
	    "line 1)", path);
	CHECK_STR(err, want);
	CHECK_INT(r.n, 0);
	write_file(path, "5 " KEY64 "\n6 " KEYB "\n\n5 " KEYC "\n", 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: duplicate key id 5 (first on "
	    "line 1)", path);
	CHECK_STR(err, want);
	/* hash_key_load refuses the same file: it is not a key file. */
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	CHECK_STR(err, want);

	/* Ids: 255 is the highest, 256 out of range; a key line after the
	 * id is checked like a bare one, with its own line number. */
	write_file(path, "255 " KEY64 "\n", 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), 0);
	CHECK_INT(r.k[0].id, 255);
	write_file(path, "256 " KEY64 "\n", 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: key id 256 out of range (0 to "
	    "255)", path);
	CHECK_STR(err, want);
	write_file(path, "1 " KEY64 "\n2 deadbeef\n", 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: key too short (8 hex digits, "
	    "need at least 64)", path);
	CHECK_STR(err, want);
	write_file(path, "1 " KEY64 "\n2\n", 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), -1);
	CHECK(strstr(err, ":2: key has an odd number of hex digits (1)") != NULL);
	/* Trouble after the first key is no longer ignored. */
	write_file(path, KEY64 "\nnot a key\n", 0600);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), -1);
	CHECK(strstr(err, ":2: key is not hexadecimal") != NULL);
	/* Permissions as for one key. */
	write_file(path, "1 " KEY64 "\n", 0640);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), -1);
	CHECK(strstr(err, "(mode 0640); chmod 600") != NULL);

	/* HASH_MAX_KEYS keys fit, one more is refused. */
	text[0] = '\0';
	for (int i = 0; i < HASH_MAX_KEYS; i++) {
		char l[100];

		snprintf(l, sizeof(l), "%d " KEY64 "\n", i * 10);
		strcat(text, l);
	}
	write_file(path, text, 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), 0);
	CHECK_INT(r.n, HASH_MAX_KEYS);
	CHECK_INT(r.k[HASH_MAX_KEYS - 1].id, (HASH_MAX_KEYS - 1) * 10);
	/* ... and rotating such a file is refused, leaving it alone. */
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), -1);
	CHECK(strstr(err, "already 16 keys") != NULL);
	strcat(text, "1 " KEY64 "\n");
	write_file(path, text, 0600);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%d: more than %d keys", path,
	    HASH_MAX_KEYS + 1, HASH_MAX_KEYS);
	CHECK_STR(err, want);

	/* Rotation round trip: old keys kept byte for byte, a new key with
	 * the next id becomes the newest, mode stays 0600, no temporary
	 * file is left behind. */
	write_file(path, "# my keys\n0 " KEY64 "\n4 " KEYB "\n", 0600);
	CHECK(slurp(path, before, sizeof(before)) > 0);
	CHECK_INT(count_entries(tmpdir), 1);
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), 0);
	CHECK_INT(count_entries(tmpdir), 1);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	n = slurp(path, text, sizeof(text));
	CHECK(strncmp(text, before, strlen(before)) == 0);
	CHECK(strncmp(text + strlen(before), "5 ", 2) == 0);
	CHECK_INT(n, (long)strlen(before) + 2 + 64 + 1);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), 0);
	CHECK_INT(r.n, 3);
	CHECK_INT(r.k[2].id, 5);
	CHECK_INT(r.k[0].key[1], 0x01);
	CHECK_INT(r.k[1].key[0], 0xb0);
	CHECK(memcmp(r.k[2].key, r.k[1].key, 32) != 0);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK(memcmp(k.key, r.k[2].key, 32) == 0);
	/* Again: id 6, and the key before it is still there. */
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), 0);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), 0);
	CHECK_INT(r.n, 4);
	CHECK_INT(r.k[3].id, 6);
	CHECK(memcmp(k.key, r.k[2].key, 32) == 0);

	/* A legacy file (bare hex, no final newline, as genkey wrote or an
	 * admin edited): its line is kept as it is and reads as id 0, the
	 * new key is id 1. */
	write_file(path, "# old\n" KEY64, 0600);
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), 0);
	n = slurp(path, text, sizeof(text));
	CHECK(strncmp(text, "# old\n" KEY64 "\n1 ", 6 + 64 + 3) == 0);
	CHECK_INT(n, 6 + 64 + 1 + 2 + 64 + 1);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), 0);
	CHECK_INT(r.n, 2);
	CHECK_INT(r.k[0].id, 0);
	CHECK_INT(r.k[1].id, 1);
	CHECK_INT(r.k[0].key[31], 0x1f);
	/* A key from hash_key_generate rotates the same way. */
	unlink(path);
	CHECK_INT(hash_key_generate(path, err, sizeof(err)), 0);
	CHECK_INT(hash_key_load(path, &k, err, sizeof(err)), 0);
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), 0);
	CHECK_INT(hash_keyring_load(path, &r, err, sizeof(err)), 0);
	CHECK_INT(r.n, 2);
	CHECK_INT(r.k[1].id, 1);
	CHECK(memcmp(r.k[0].key, k.key, 32) == 0);

	/* Id 255 taken: no rotation, file unchanged. */
	write_file(path, "255 " KEY64 "\n", 0600);
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: key id 255 is taken; no higher id "
	    "is possible (start a new key file)", path);
	CHECK_STR(err, want);
	CHECK_INT(slurp(path, text, sizeof(text)), 4 + 64 + 1);
	/* A broken or unsafe file is not rotated. */
	write_file(path, "1 " KEY64 "\n1 " KEYB "\n", 0600);
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), -1);
	CHECK(strstr(err, ":2: duplicate key id 1") != NULL);
	write_file(path, KEY64 "\n", 0644);
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), -1);
	CHECK(strstr(err, "(mode 0644)") != NULL);
	CHECK_INT(count_entries(tmpdir), 1);
	unlink(path);
	CHECK_INT(hash_key_rotate(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	CHECK_STR(err, want);
	CHECK_INT(count_entries(tmpdir), 0);
}

static void
test_hex(void)
{
	unsigned char	h[HASH_LEN], want[HASH_LEN];
	char		hex[2 * HASH_LEN + 2];

	for (size_t i = 0; i < HASH_LEN; i++) {
		want[i] = (unsigned char)(i * 8 + 0x0f);
		snprintf(hex + 2 * i, 3, "%02x", want[i]);
	}
	CHECK_INT(hash_from_hex(hex, h), 0);
	CHECK(memcmp(h, want, sizeof(h)) == 0);
	for (size_t i = 0; hex[i] != '\0'; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	memset(h, 0, sizeof(h));
	CHECK_INT(hash_from_hex(hex, h), 0);
	CHECK(memcmp(h, want, sizeof(h)) == 0);

	memset(h, 0xaa, sizeof(h));
	hex[5] = 'g';
	CHECK_INT(hash_from_hex(hex, h), -1);
	CHECK_INT(h[2], 0xaa);		/* untouched on error */
	hex[5] = '0';
	hex[63] = '\0';			/* 63 digits */
	CHECK_INT(hash_from_hex(hex, h), -1);
	hex[63] = '0';
	hex[64] = '0';			/* 65 digits */
	hex[65] = '\0';
	CHECK_INT(hash_from_hex(hex, h), -1);
	CHECK_INT(hash_from_hex("", h), -1);
	CHECK_INT(hash_from_hex(NULL, h), -1);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_hash.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		return 99;
	}
	test_rfc4231();
	test_canonical();
	test_keyfile();
	test_keyring();
	if (rmdir(tmpdir) == -1)
		perror(tmpdir);
	test_hex();
	return T_DONE();
}
