#ifdef __cplusplus
#ifndef ISOPROBE_GLOBALS_CXX
#define ISOPROBE_GLOBALS_CXX
/* The course's error contract, shared by server.h and client.h. */
namespace isoprobe {
namespace course {
/** Prints the one error line: "system error: <call>: <reason>" for a failed
 *  system call, "isoprobe error: <reason>" for a refused argument or a
 *  bounded wait that ran out (a send the client never took). */
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
/* The layout C and Rust see, and the properties the course's plain structs had. */
static_assert(sizeof(isoprobe_string) == ISOPROBE_STRING_CAPACITY, "isoprobe_string is its buffer, nothing more");
static_assert(std::is_trivially_copyable<isoprobe_string>::value && std::is_standard_layout<isoprobe_string>::value,
              "isoprobe_string is plain data");
static_assert(std::is_trivially_copyable<live_server_info>::value && std::is_standard_layout<live_server_info>::value,
              "live_server_info is plain data");
#if __cplusplus >= 201703L
static_assert(std::is_aggregate<live_server_info>::value, "live_server_info is initialised with braces");
#endif

/*
 * std::getline for the fields, as for the std::string they replace. The call
 * course code makes is qualified (`std::getline(in, setup.info_file_name)`),
 * which finds only overloads declared in std: these are plain overloads there
 * (the std templates cannot deduce a std::basic_string from isoprobe_string).
 * The field changes only when the stream was good, as std::string's does; a
 * line longer than the capacity throws std::length_error after it was read.
 */
namespace std {
inline istream &getline(istream &is, isoprobe_string &s, char delim) {
  bool good = is.good();
  string line;
  getline(is, line, delim);
  if (good) s = line;
  return is;
}
inline istream &getline(istream &is, isoprobe_string &s) { return getline(is, s, is.widen('\n')); }
inline istream &getline(istream &&is, isoprobe_string &s, char delim) { return getline(is, s, delim); }
inline istream &getline(istream &&is, isoprobe_string &s) { return getline(is, s, is.widen('\n')); }

/** The same hash as std::string's for the same content. */
template <>
struct hash<isoprobe_string> {
  size_t operator()(const isoprobe_string &s) const {
#if __cplusplus >= 201703L
    return hash<string_view>()(s.view());
#else
    return hash<string>()(s.str());
#endif
  }
};
}  // namespace std
#endif /* ISOPROBE_GLOBALS_CXX */
#endif /* __cplusplus */
