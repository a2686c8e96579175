#ifdef __cplusplus
#ifndef ISOPROBE_GLOBALS_CXX
#define ISOPROBE_GLOBALS_CXX
/* The course's error contract, shared by server.h and client.h. */
namespace isoprobe {
namespace course {
/** Prints the one error line: "system error: <call>: <reason>" for a failed
 *  system call, "isoprobe error: <reason>" for a refused argument. */
inline void print_error(const isoprobe_error &e) {
  if (e.status == ISOPROBE_ERROR_SYSTEM)
    std::fprintf(stderr, "system error: %s\n", e.message);
  else
    std::fprintf(stderr, "isoprobe error: %s\n", e.message);
}
/** A refused argument, reported like a library error. */
inline isoprobe_error invalid_argument(const char *what) {
  isoprobe_error e;
  std::memset(&e, 0, sizeof e);
  e.status = ISOPROBE_ERROR_INVALID;
  std::snprintf(e.message, sizeof e.message, "%s", what);
  return e;
}
/** True when msg can travel as a C string (no NUL inside). */
inline bool is_c_string(const std::string &msg) { return msg.find('\0') == std::string::npos; }
}  // namespace course
}  // namespace isoprobe
#endif /* ISOPROBE_GLOBALS_CXX */
#endif /* __cplusplus */
