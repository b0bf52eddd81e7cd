/* hash.c - to be written */
