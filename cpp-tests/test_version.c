/* The version macros of globals.h agree with Cargo.toml's package.version
 * and with CMake's project version (CARGO_VERSION and CMAKE_VERSION_STRING
 * come from CMakeLists.txt, which reads Cargo.toml). */
#include <stdio.h>
#include <string.h>

#include "globals.h"

int main(void) {
  char from_parts[64];
  int failures = 0;
  snprintf(from_parts, sizeof from_parts, "%d.%d.%d", ISOPROBE_VERSION_MAJOR, ISOPROBE_VERSION_MINOR,
           ISOPROBE_VERSION_PATCH);
  if (strcmp(ISOPROBE_VERSION_STRING, CARGO_VERSION) != 0) {
    fprintf(stderr, "ISOPROBE_VERSION_STRING is \"%s\", Cargo.toml says \"%s\"\n", ISOPROBE_VERSION_STRING,
            CARGO_VERSION);
    failures++;
  }
  if (strcmp(from_parts, CARGO_VERSION) != 0) {
    fprintf(stderr, "ISOPROBE_VERSION_MAJOR.MINOR.PATCH is %s, Cargo.toml says %s\n", from_parts, CARGO_VERSION);
    failures++;
  }
  if (strcmp(CMAKE_VERSION_STRING, CARGO_VERSION) != 0) {
    fprintf(stderr, "CMakeLists.txt's project version is %s, Cargo.toml says %s\n", CMAKE_VERSION_STRING,
            CARGO_VERSION);
    failures++;
  }
  if (failures == 0) printf("version %s in globals.h, Cargo.toml and CMakeLists.txt\n", CARGO_VERSION);
  return failures == 0 ? 0 : 1;
}
