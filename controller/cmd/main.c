/* bin/clair-controller: placeholder. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-help")) {
			printf("usage: clair-controller [flags]\n");
			return 0;
		}
	fprintf(stderr, "clair-controller: not yet wired\n");
	return 1;
}
