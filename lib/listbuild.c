/* listbuild.c - to be written */
