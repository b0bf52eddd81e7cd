#include "t.h"
int main(void) { T_SKIP("not written yet"); }
