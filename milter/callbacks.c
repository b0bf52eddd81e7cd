/* callbacks.c - to be written */
