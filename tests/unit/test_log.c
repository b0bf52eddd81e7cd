/*
 * test_log - lines on stderr: one per call, prefixes, errno text,
 * verbosity, facility names, and fatal's exit status.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

static char path[] = "/tmp/test_log.XXXXXX";

/* Everything logged so far, as one string. */
static const char *
logged(void)
{
	static char buf[8192];
	size_t n;
	FILE *f;

	fflush(stderr);
	buf[0] = '\0';
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int
main(void)
{
	int fd, status;
	pid_t pid;

	if ((fd = mkstemp(path)) < 0)
		T_SKIP("mkstemp failed");
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);

	log_init("test-log", LOG_MAIL, 1, 0);
	log_info("qid=%s action=%s", "ABC", "reject");
	log_warnx("plain %d", 7);
	errno = ENOENT;
	log_warn("open %s", "/nowhere");
	CHECK_INT(errno, ENOENT);	/* logging keeps errno */
	log_debug("hidden %d", 1);
	log_setverbose(1);
	log_debug("shown %d", 2);
	/* Longer than a line holds: cut, still one whole line. */
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("long %s", big);

	pid = fork();
	if (pid == 0)
		fatalx("the end %d", 3);
	waitpid(pid, &status, 0);

	fflush(stderr);
	dup2(saved, 2);
	const char *s = logged();
	fprintf(stderr, "%s", s);
	CHECK(strstr(s, "test-log: qid=ABC action=reject\n") != NULL);
	CHECK(strstr(s, "test-log: warning: plain 7\n") != NULL);
	CHECK(strstr(s, "warning: open /nowhere: No such file or directory\n")
	    != NULL);
	CHECK(strstr(s, "hidden") == NULL);
	CHECK(strstr(s, "test-log: debug: shown 2\n") != NULL);
	CHECK(strstr(s, "test-log: fatal: the end 3\n") != NULL);
	CHECK(strstr(s, "test-log: long xxxx") != NULL);
	CHECK(strstr(s, big) == NULL);		/* cut */
	CHECK(strstr(s, "xxxx\n") != NULL);	/* ended by its newline */
	CHECK_INT(count_lines(s), 6);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);

	CHECK_INT(log_facility_byname("mail"), LOG_MAIL);
	CHECK_INT(log_facility_byname("LOCAL3"), LOG_LOCAL3);
	CHECK_INT(log_facility_byname("kern"), -1);
	unlink(path);
	return T_DONE();
}
