// Shared by the corpus programs: checks and a transcript on stdout. Only the
// standard library, because every program is also compiled against the
// course's own headers (cpp-tests/course-headers, std::string fields), and
// the transcripts of both builds must be byte for byte the same.
#ifndef CORPUS_H
#define CORPUS_H

#include <cstdlib>
#include <iostream>

namespace corpus {
inline int &failures() {
  static int n = 0;
  return n;
}
inline void fail(const char *file, int line, const char *what) {
  std::cerr << file << ":" << line << ": check failed: " << what << "\n";
  ++failures();
}
// 0 when every check held; prints the transcript's last line.
inline int result() {
  std::cout << (failures() == 0 ? "all checks passed" : "checks failed") << std::endl;
  return failures() == 0 ? 0 : 1;
}
}  // namespace corpus

#define CHECK(cond) ((cond) ? (void)0 : corpus::fail(__FILE__, __LINE__, #cond))
// A line of the transcript: the expression and its value.
#define SHOW(expr) (std::cout << #expr << " = [" << (expr) << "]\n")

#endif
