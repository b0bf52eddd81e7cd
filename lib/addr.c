/* addr.c - to be written */
