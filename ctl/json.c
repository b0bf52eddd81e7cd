/*
 * json.c - the JSON text of --json (lookup, check, stats), RFC 8259.
 *
 * A writer that keeps the commas: each value is written with its key
 * inside an object (NULL inside an array or at the top), containers are
 * opened and closed around them.  Compact, one document on one line, so
 * that JSON Lines is a document and a newline.  Strings are escaped:
 * '"' and '\\' with a backslash, the control characters as \u00XX, and a
 * byte that is not part of well-formed UTF-8 (a subscriber file in
 * Latin-1) as U+FFFD, so that the text is always valid JSON in UTF-8
 * whatever the input held.
 */
#include "config.h"

#include <stdio.h>

#include "ctl.h"

void
json_start(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->items[0] = 0;
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629's table:
 * no overlong form, no surrogate, nothing past U+10FFFF), or 0. */
static int
utf8_len(const unsigned char *p)
{
	int n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	/* The NUL that ends the string is no continuation byte: a
	 * truncated sequence stops there. */
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (p[i] < lo || p[i] > hi)
			return 0;
	return n;
}

static void
put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	fputc('"', f);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p++);
		else if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", f);
			p++;
		} else {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		}
	}
	fputc('"', f);
}

/* The comma before an item, and its key inside an object. */
static void
item(struct json *j, const char *key)
{
	if (j->items[j->depth]++ > 0)
		fputc(',', j->f);
	if (key != NULL) {
		put_string(j->f, key);
		fputc(':', j->f);
	}
}

void
json_open(struct json *j, const char *key, char bracket)
{
	item(j, key);
	fputc(bracket, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->items[++j->depth] = 0;
}

void
json_close(struct json *j, char bracket)
{
	fputc(bracket, j->f);
	if (j->depth > 0)
		j->depth--;
}

void
json_str(struct json *j, const char *key, const char *v)
{
	item(j, key);
	if (v == NULL)
		fputs("null", j->f);
	else
		put_string(j->f, v);
}

void
json_num(struct json *j, const char *key, unsigned long long v)
{
	item(j, key);
	fprintf(j->f, "%llu", v);
}

void
json_bool(struct json *j, const char *key, int v)
{
	item(j, key);
	fputs(v ? "true" : "false", j->f);
}
