/* state.c - to be written */
