/* test_category - names of categories, roles and actions both ways. */
#include "config.h"

#include "classify.h"
#include "t.h"

int
main(void)
{
	for (int i = 0; i < CAT_COUNT; i++)
		CHECK_INT(category_byname(category_name(i)), i);
	CHECK_INT(category_byname("allow"), CAT_ALLOWED);
	CHECK_INT(category_byname("DISPOSABLE"), CAT_DISPOSABLE);
	CHECK_INT(category_byname("burner"), -1);
	CHECK_STR(category_name(CAT_COUNT), "?");

	for (int i = 0; i < ROLE_COUNT; i++) {
		CHECK_INT(role_byname(role_name(i)), i);
		if (role_header(i) != NULL)
			CHECK_INT(role_byname(role_header(i)), i);
	}
	CHECK_STR(role_name(ROLE_REPLY_TO), "reply-to");
	CHECK_INT(role_byname("reply-TO"), ROLE_REPLY_TO);
	CHECK_INT(role_byname("Disposition-Notification-To"), ROLE_DNT);
	CHECK(role_header(ROLE_ENVELOPE) == NULL);
	CHECK_INT(role_byname("To"), -1);

	for (int i = 0; i < ACT_COUNT; i++)
		CHECK_INT(action_byname(action_name(i)), i);
	CHECK_INT(action_byname("discard"), -1);
	/* The order of actions is their severity. */
	CHECK(ACT_REJECT > ACT_TEMPFAIL && ACT_TEMPFAIL > ACT_TAG &&
	    ACT_TAG > ACT_ACCEPT);
	return T_DONE();
}
