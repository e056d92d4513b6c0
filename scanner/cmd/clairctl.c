/* bin/clairctl: placeholder until the config, server and db modules land. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-help")) {
			printf("usage: clairctl [-c FILE] COMMAND\n");
			return 0;
		}
	fprintf(stderr, "clairctl: not yet wired\n");
	return 1;
}
