/* listdb.c - to be written */
