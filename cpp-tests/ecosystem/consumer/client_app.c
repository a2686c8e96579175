/* Plain C against client.h: the course's client run on DIR.
 * usage: client_app DIR */
#include <stdio.h>

#include "client.h"

int main(int argc, char **argv) {
  isoprobe_error err;
  if (argc != 2) {
    fprintf(stderr, "usage: client_app DIR\n");
    return 2;
  }
  if (isoprobe_client_run(argv[1], &err) != ISOPROBE_OK) {
    fprintf(stderr, "client_app: %s\n", err.message);
    return 1;
  }
  return 0;
}
