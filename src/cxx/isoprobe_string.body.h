#endif /* !__cplusplus */
#ifdef __cplusplus
 public:
  /*
   * C++: the std::string of the course's headers, within a fixed capacity.
   * Longer strings throw std::length_error and a NUL byte (or a null
   * const char *) std::invalid_argument; either way the string keeps its old
   * value. What cannot match std::string is listed in docs/strings.md.
   *
   * The constructors are not explicit so that the structs holding these
   * fields stay aggregates initialised from std::string, std::string_view or
   * literals: `server_setup_information s = {8080, path, 10, name, dir};`.
   */
  typedef char value_type;
  typedef std::size_t size_type;
  typedef std::ptrdiff_t difference_type;
  static constexpr size_type npos = static_cast<size_type>(-1);

  /** The empty string, as a default-constructed std::string. */
  isoprobe_string() noexcept { data_[0] = '\0'; }
  isoprobe_string(const char *s) { assign_(s, length_of_(s)); }
  isoprobe_string(const std::string &s) { assign_(s.data(), s.size()); }
#if __cplusplus >= 201703L
  isoprobe_string(std::string_view s) { assign_(s.data(), s.size()); }
#endif

  /** Assignment; throws std::length_error when it does not fit. */
  isoprobe_string &operator=(const char *s) { return assign_(s, length_of_(s)); }
  isoprobe_string &operator=(const std::string &s) { return assign_(s.data(), s.size()); }
  isoprobe_string &operator=(char c) { return assign_(&c, 1); }
#if __cplusplus >= 201703L
  isoprobe_string &operator=(std::string_view s) { return assign_(s.data(), s.size()); }
#endif
  isoprobe_string &assign(const isoprobe_string &s) { return *this = s; }
  isoprobe_string &assign(const char *s) { return assign_(s, length_of_(s)); }
  isoprobe_string &assign(const std::string &s) { return assign_(s.data(), s.size()); }
  /** Copies n bytes; never truncates. */
  isoprobe_string &assign(const char *s, size_type n) { return assign_(s, n); }
#if __cplusplus >= 201703L
  isoprobe_string &assign(std::string_view s) { return assign_(s.data(), s.size()); }
#endif

  /** Appending; throws std::length_error when the result does not fit. */
  isoprobe_string &operator+=(const isoprobe_string &s) { return append_(s.data_, s.size()); }
  isoprobe_string &operator+=(const char *s) { return append_(s, length_of_(s)); }
  isoprobe_string &operator+=(const std::string &s) { return append_(s.data(), s.size()); }
  isoprobe_string &operator+=(char c) { return append_(&c, 1); }
#if __cplusplus >= 201703L
  isoprobe_string &operator+=(std::string_view s) { return append_(s.data(), s.size()); }
#endif
  isoprobe_string &append(const isoprobe_string &s) { return append_(s.data_, s.size()); }
  isoprobe_string &append(const char *s) { return append_(s, length_of_(s)); }
  isoprobe_string &append(const std::string &s) { return append_(s.data(), s.size()); }
  isoprobe_string &append(const char *s, size_type n) { return append_(s, n); }
#if __cplusplus >= 201703L
  isoprobe_string &append(std::string_view s) { return append_(s.data(), s.size()); }
#endif
  void push_back(char c) { append_(&c, 1); }
  void pop_back() noexcept { std::size_t n = size(); if (n != 0) data_[n - 1] = '\0'; }
  void clear() noexcept { data_[0] = '\0'; }
  /** Shrinks, or grows with c (not '\0': std::invalid_argument) up to capacity(). */
  void resize(size_type n, char c = '\0') {
    if (n > capacity()) throw std::length_error(too_long_(n));
    size_type len = size();
    if (n <= len) {
      data_[n] = '\0';
      return;
    }
    if (c == '\0') throw std::invalid_argument("isoprobe_string: resize would append NUL bytes");
    std::memset(data_ + len, c, n - len);
    data_[n] = '\0';
  }
  /** A no-op within capacity(), as the storage is fixed; beyond it std::length_error. */
  void reserve(size_type n = 0) const { if (n > capacity()) throw std::length_error(too_long_(n)); }
  void shrink_to_fit() noexcept {}
  void swap(isoprobe_string &other) noexcept {
    isoprobe_string tmp = other;
    other = *this;
    *this = tmp;
  }

  /** Length in bytes, without the NUL. */
  size_type size() const noexcept {
    const void *nul = std::memchr(data_, '\0', sizeof data_);
    return nul == nullptr ? sizeof data_ : static_cast<size_type>(static_cast<const char *>(nul) - data_);
  }
  size_type length() const noexcept { return size(); }
  bool empty() const noexcept { return data_[0] == '\0'; }
  /** The longest string that fits: ISOPROBE_STRING_CAPACITY - 1 bytes. */
  static constexpr size_type capacity() noexcept { return ISOPROBE_STRING_CAPACITY - 1; }
  static constexpr size_type max_size() noexcept { return capacity(); }
  /** The NUL-terminated content. */
  const char *c_str() const noexcept { return data_; }
  const char *data() const noexcept { return data_; }
  /** The raw buffer (capacity() + 1 bytes), for C calls that fill it; keep it NUL-terminated. */
  char *data() noexcept { return data_; }

  /** Read-only element access (assigning a character: see docs/strings.md). */
  const char &operator[](size_type pos) const noexcept { return data_[pos]; }
  const char &at(size_type pos) const {
    size_type n = size();
    if (pos >= n)
      throw std::out_of_range("isoprobe_string::at: pos (which is " + std::to_string(pos) +
                              ") >= this->size() (which is " + std::to_string(n) + ")");
    return data_[pos];
  }
  const char &front() const noexcept { return data_[0]; }
  const char &back() const noexcept { return data_[size() - 1]; }
  const char *begin() const noexcept { return data_; }
  const char *end() const noexcept { return data_ + size(); }
  const char *cbegin() const noexcept { return begin(); }
  const char *cend() const noexcept { return end(); }
  std::reverse_iterator<const char *> rbegin() const noexcept { return std::reverse_iterator<const char *>(end()); }
  std::reverse_iterator<const char *> rend() const noexcept { return std::reverse_iterator<const char *>(begin()); }

  /** A std::string copy. */
  std::string str() const { return std::string(data_, size()); }
  /** Converts implicitly, as the field's old type: `std::string p = server.info_file_path;`. */
  operator std::string() const { return str(); }
#if __cplusplus >= 201703L
  std::string_view view() const noexcept { return std::string_view(data_, size()); }
  operator std::string_view() const noexcept { return view(); }
#endif

  /** std::string's substr: std::out_of_range when pos > size(). */
  std::string substr(size_type pos = 0, size_type n = npos) const {
    size_type len = size();
    check_pos_(pos, len, "substr");
    return std::string(data_ + pos, clamp_(n, len - pos));
  }

  /* Searching, with std::string's arguments and results (npos when not found). */
  size_type find(const isoprobe_string &s, size_type pos = 0) const noexcept { return find_(s.data_, pos, s.size()); }
  size_type find(const std::string &s, size_type pos = 0) const noexcept { return find_(s.data(), pos, s.size()); }
  size_type find(const char *s, size_type pos, size_type n) const noexcept { return find_(s, pos, n); }
  size_type find(const char *s, size_type pos = 0) const { return find_(s, pos, length_of_(s)); }
  size_type find(char c, size_type pos = 0) const noexcept { return find_(&c, pos, 1); }
  size_type rfind(const isoprobe_string &s, size_type pos = npos) const noexcept { return rfind_(s.data_, pos, s.size()); }
  size_type rfind(const std::string &s, size_type pos = npos) const noexcept { return rfind_(s.data(), pos, s.size()); }
  size_type rfind(const char *s, size_type pos, size_type n) const noexcept { return rfind_(s, pos, n); }
  size_type rfind(const char *s, size_type pos = npos) const { return rfind_(s, pos, length_of_(s)); }
  size_type rfind(char c, size_type pos = npos) const noexcept { return rfind_(&c, pos, 1); }
  size_type find_first_of(const isoprobe_string &s, size_type pos = 0) const noexcept { return first_of_(s.data_, pos, s.size(), true); }
  size_type find_first_of(const std::string &s, size_type pos = 0) const noexcept { return first_of_(s.data(), pos, s.size(), true); }
  size_type find_first_of(const char *s, size_type pos, size_type n) const noexcept { return first_of_(s, pos, n, true); }
  size_type find_first_of(const char *s, size_type pos = 0) const { return first_of_(s, pos, length_of_(s), true); }
  size_type find_first_of(char c, size_type pos = 0) const noexcept { return first_of_(&c, pos, 1, true); }
  size_type find_last_of(const isoprobe_string &s, size_type pos = npos) const noexcept { return last_of_(s.data_, pos, s.size(), true); }
  size_type find_last_of(const std::string &s, size_type pos = npos) const noexcept { return last_of_(s.data(), pos, s.size(), true); }
  size_type find_last_of(const char *s, size_type pos, size_type n) const noexcept { return last_of_(s, pos, n, true); }
  size_type find_last_of(const char *s, size_type pos = npos) const { return last_of_(s, pos, length_of_(s), true); }
  size_type find_last_of(char c, size_type pos = npos) const noexcept { return last_of_(&c, pos, 1, true); }
  size_type find_first_not_of(const isoprobe_string &s, size_type pos = 0) const noexcept { return first_of_(s.data_, pos, s.size(), false); }
  size_type find_first_not_of(const std::string &s, size_type pos = 0) const noexcept { return first_of_(s.data(), pos, s.size(), false); }
  size_type find_first_not_of(const char *s, size_type pos, size_type n) const noexcept { return first_of_(s, pos, n, false); }
  size_type find_first_not_of(const char *s, size_type pos = 0) const { return first_of_(s, pos, length_of_(s), false); }
  size_type find_first_not_of(char c, size_type pos = 0) const noexcept { return first_of_(&c, pos, 1, false); }
  size_type find_last_not_of(const isoprobe_string &s, size_type pos = npos) const noexcept { return last_of_(s.data_, pos, s.size(), false); }
  size_type find_last_not_of(const std::string &s, size_type pos = npos) const noexcept { return last_of_(s.data(), pos, s.size(), false); }
  size_type find_last_not_of(const char *s, size_type pos, size_type n) const noexcept { return last_of_(s, pos, n, false); }
  size_type find_last_not_of(const char *s, size_type pos = npos) const { return last_of_(s, pos, length_of_(s), false); }
  size_type find_last_not_of(char c, size_type pos = npos) const noexcept { return last_of_(&c, pos, 1, false); }
#if __cplusplus >= 201703L
  size_type find(std::string_view s, size_type pos = 0) const noexcept { return find_(s.data(), pos, s.size()); }
  size_type rfind(std::string_view s, size_type pos = npos) const noexcept { return rfind_(s.data(), pos, s.size()); }
  size_type find_first_of(std::string_view s, size_type pos = 0) const noexcept { return first_of_(s.data(), pos, s.size(), true); }
  size_type find_last_of(std::string_view s, size_type pos = npos) const noexcept { return last_of_(s.data(), pos, s.size(), true); }
  size_type find_first_not_of(std::string_view s, size_type pos = 0) const noexcept { return first_of_(s.data(), pos, s.size(), false); }
  size_type find_last_not_of(std::string_view s, size_type pos = npos) const noexcept { return last_of_(s.data(), pos, s.size(), false); }
#endif
#if __cplusplus >= 202002L
  bool starts_with(std::string_view s) const noexcept { return view().substr(0, s.size()) == s; }
  bool starts_with(char c) const noexcept { return data_[0] == c && c != '\0'; }
  bool starts_with(const char *s) const { return starts_with(std::string_view(s, length_of_(s))); }
  bool ends_with(std::string_view s) const noexcept { std::string_view v = view(); return v.size() >= s.size() && v.substr(v.size() - s.size()) == s; }
  bool ends_with(char c) const noexcept { return !empty() && back() == c; }
  bool ends_with(const char *s) const { return ends_with(std::string_view(s, length_of_(s))); }
#endif

  /* std::string's compare: <0, 0 or >0; std::out_of_range when pos1 > size() (or pos2 > s.size()). */
  int compare(const isoprobe_string &s) const noexcept { return compare_(data_, size(), s.data_, s.size()); }
  int compare(const std::string &s) const noexcept { return compare_(data_, size(), s.data(), s.size()); }
  int compare(const char *s) const { return compare_(data_, size(), s, length_of_(s)); }
  int compare(size_type pos1, size_type n1, const isoprobe_string &s) const { return compare(pos1, n1, s.data_, s.size()); }
  int compare(size_type pos1, size_type n1, const std::string &s) const { return compare(pos1, n1, s.data(), s.size()); }
  int compare(size_type pos1, size_type n1, const char *s) const { return compare(pos1, n1, s, length_of_(s)); }
  int compare(size_type pos1, size_type n1, const char *s, size_type n2) const {
    size_type len = size();
    check_pos_(pos1, len, "compare");
    return compare_(data_ + pos1, clamp_(n1, len - pos1), s, n2);
  }
  int compare(size_type pos1, size_type n1, const std::string &s, size_type pos2, size_type n2 = npos) const {
    check_pos_(pos2, s.size(), "compare");
    return compare(pos1, n1, s.data() + pos2, clamp_(n2, s.size() - pos2));
  }
  int compare(size_type pos1, size_type n1, const isoprobe_string &s, size_type pos2, size_type n2 = npos) const {
    size_type len = s.size();
    check_pos_(pos2, len, "compare");
    return compare(pos1, n1, s.data_ + pos2, clamp_(n2, len - pos2));
  }
#if __cplusplus >= 201703L
  int compare(std::string_view s) const noexcept { return compare_(data_, size(), s.data(), s.size()); }
  int compare(size_type pos1, size_type n1, std::string_view s) const { return compare(pos1, n1, s.data(), s.size()); }
  int compare(size_type pos1, size_type n1, std::string_view s, size_type pos2, size_type n2 = npos) const {
    check_pos_(pos2, s.size(), "compare");
    return compare(pos1, n1, s.data() + pos2, clamp_(n2, s.size() - pos2));
  }
#endif

  /* Comparisons with every string type, both ways (the field's side first). */
  friend bool operator==(const isoprobe_string &a, const isoprobe_string &b) noexcept { return a.compare(b) == 0; }
  friend bool operator!=(const isoprobe_string &a, const isoprobe_string &b) noexcept { return a.compare(b) != 0; }
  friend bool operator<(const isoprobe_string &a, const isoprobe_string &b) noexcept { return a.compare(b) < 0; }
  friend bool operator<=(const isoprobe_string &a, const isoprobe_string &b) noexcept { return a.compare(b) <= 0; }
  friend bool operator>(const isoprobe_string &a, const isoprobe_string &b) noexcept { return a.compare(b) > 0; }
  friend bool operator>=(const isoprobe_string &a, const isoprobe_string &b) noexcept { return a.compare(b) >= 0; }
  friend bool operator==(const isoprobe_string &a, const std::string &b) noexcept { return a.compare(b) == 0; }
  friend bool operator!=(const isoprobe_string &a, const std::string &b) noexcept { return a.compare(b) != 0; }
  friend bool operator<(const isoprobe_string &a, const std::string &b) noexcept { return a.compare(b) < 0; }
  friend bool operator<=(const isoprobe_string &a, const std::string &b) noexcept { return a.compare(b) <= 0; }
  friend bool operator>(const isoprobe_string &a, const std::string &b) noexcept { return a.compare(b) > 0; }
  friend bool operator>=(const isoprobe_string &a, const std::string &b) noexcept { return a.compare(b) >= 0; }
  friend bool operator==(const std::string &a, const isoprobe_string &b) noexcept { return 0 == b.compare(a); }
  friend bool operator!=(const std::string &a, const isoprobe_string &b) noexcept { return 0 != b.compare(a); }
  friend bool operator<(const std::string &a, const isoprobe_string &b) noexcept { return 0 < b.compare(a); }
  friend bool operator<=(const std::string &a, const isoprobe_string &b) noexcept { return 0 <= b.compare(a); }
  friend bool operator>(const std::string &a, const isoprobe_string &b) noexcept { return 0 > b.compare(a); }
  friend bool operator>=(const std::string &a, const isoprobe_string &b) noexcept { return 0 >= b.compare(a); }
  friend bool operator==(const isoprobe_string &a, const char *b) { return a.compare(b) == 0; }
  friend bool operator!=(const isoprobe_string &a, const char *b) { return a.compare(b) != 0; }
  friend bool operator<(const isoprobe_string &a, const char *b) { return a.compare(b) < 0; }
  friend bool operator<=(const isoprobe_string &a, const char *b) { return a.compare(b) <= 0; }
  friend bool operator>(const isoprobe_string &a, const char *b) { return a.compare(b) > 0; }
  friend bool operator>=(const isoprobe_string &a, const char *b) { return a.compare(b) >= 0; }
  friend bool operator==(const char *a, const isoprobe_string &b) { return 0 == b.compare(a); }
  friend bool operator!=(const char *a, const isoprobe_string &b) { return 0 != b.compare(a); }
  friend bool operator<(const char *a, const isoprobe_string &b) { return 0 < b.compare(a); }
  friend bool operator<=(const char *a, const isoprobe_string &b) { return 0 <= b.compare(a); }
  friend bool operator>(const char *a, const isoprobe_string &b) { return 0 > b.compare(a); }
  friend bool operator>=(const char *a, const isoprobe_string &b) { return 0 >= b.compare(a); }
#if __cplusplus >= 201703L
  friend bool operator==(const isoprobe_string &a, std::string_view b) noexcept { return a.compare(b) == 0; }
  friend bool operator!=(const isoprobe_string &a, std::string_view b) noexcept { return a.compare(b) != 0; }
  friend bool operator<(const isoprobe_string &a, std::string_view b) noexcept { return a.compare(b) < 0; }
  friend bool operator<=(const isoprobe_string &a, std::string_view b) noexcept { return a.compare(b) <= 0; }
  friend bool operator>(const isoprobe_string &a, std::string_view b) noexcept { return a.compare(b) > 0; }
  friend bool operator>=(const isoprobe_string &a, std::string_view b) noexcept { return a.compare(b) >= 0; }
  friend bool operator==(std::string_view a, const isoprobe_string &b) noexcept { return 0 == b.compare(a); }
  friend bool operator!=(std::string_view a, const isoprobe_string &b) noexcept { return 0 != b.compare(a); }
  friend bool operator<(std::string_view a, const isoprobe_string &b) noexcept { return 0 < b.compare(a); }
  friend bool operator<=(std::string_view a, const isoprobe_string &b) noexcept { return 0 <= b.compare(a); }
  friend bool operator>(std::string_view a, const isoprobe_string &b) noexcept { return 0 > b.compare(a); }
  friend bool operator>=(std::string_view a, const isoprobe_string &b) noexcept { return 0 >= b.compare(a); }
#endif
#if __cplusplus >= 202002L && defined(__cpp_lib_three_way_comparison)
  /* C++20's <=>, as std::string has it (the other side's <=> is rewritten from these). */
  friend std::strong_ordering operator<=>(const isoprobe_string &a, const isoprobe_string &b) noexcept { return a.compare(b) <=> 0; }
  friend std::strong_ordering operator<=>(const isoprobe_string &a, const std::string &b) noexcept { return a.compare(b) <=> 0; }
  friend std::strong_ordering operator<=>(const isoprobe_string &a, const char *b) { return a.compare(b) <=> 0; }
  friend std::strong_ordering operator<=>(const isoprobe_string &a, std::string_view b) noexcept { return a.compare(b) <=> 0; }
#endif

  /* Concatenation gives a std::string, as with the field's old type. */
  friend std::string operator+(const isoprobe_string &a, const isoprobe_string &b) { return a.str().append(b.data_, b.size()); }
  friend std::string operator+(const isoprobe_string &a, const std::string &b) { return a.str().append(b); }
  friend std::string operator+(const std::string &a, const isoprobe_string &b) { return std::string(a).append(b.data_, b.size()); }
  friend std::string operator+(const isoprobe_string &a, const char *b) { return a.str().append(b, length_of_(b)); }
  friend std::string operator+(const char *a, const isoprobe_string &b) { return std::string(a, length_of_(a)).append(b.data_, b.size()); }
  friend std::string operator+(const isoprobe_string &a, char b) { return a.str().append(1, b); }
  friend std::string operator+(char a, const isoprobe_string &b) { return std::string(1, a).append(b.data_, b.size()); }
#if __cplusplus >= 201703L
  friend std::string operator+(const isoprobe_string &a, std::string_view b) { return a.str().append(b.data(), b.size()); }
  friend std::string operator+(std::string_view a, const isoprobe_string &b) { return std::string(a).append(b.data_, b.size()); }
#endif

  /** Streams the content: `std::cout << server.info_file_path`. */
  friend std::ostream &operator<<(std::ostream &os, const isoprobe_string &s) {
    std::string copy = s.str();  // so that width and fill apply as for a std::string
    return os << copy;
  }
  /** Reads one word, as into a std::string; the field is unchanged when nothing was read. */
  friend std::istream &operator>>(std::istream &is, isoprobe_string &s) {
    std::string word;
    if (is >> word) s = word;
    return is;
  }

 private:
  /* Refuses what std::string would call undefined: a null pointer. */
  static size_type length_of_(const char *s) {
    if (s == nullptr) throw std::invalid_argument("isoprobe_string: null const char *");
    return std::strlen(s);
  }
  static size_type clamp_(size_type n, size_type most) noexcept { return n < most ? n : most; }
  static std::string too_long_(size_type n) {
    return "isoprobe_string: " + std::to_string(n) + " bytes do not fit (at most " + std::to_string(capacity()) + ")";
  }
  static void check_pos_(size_type pos, size_type len, const char *what) {
    if (pos > len)
      throw std::out_of_range(std::string("isoprobe_string::") + what + ": pos (which is " + std::to_string(pos) +
                              ") > this->size() (which is " + std::to_string(len) + ")");
  }
  static void check_no_nul_(const char *s, size_type n) {
    if (n != 0 && std::memchr(s, '\0', n) != nullptr)
      throw std::invalid_argument("isoprobe_string: string contains a NUL byte");
  }
  /* Never truncates: the checks come before the copy, so a refused string leaves the old value. */
  isoprobe_string &assign_(const char *s, size_type n) {
    if (n > capacity()) throw std::length_error(too_long_(n));
    check_no_nul_(s, n);
    std::memmove(data_, s, n);
    data_[n] = '\0';
    return *this;
  }
  isoprobe_string &append_(const char *s, size_type n) {
    size_type len = size();  // capacity() + 1 when C code left the buffer unterminated
    if (len > capacity() || n > capacity() - len) throw std::length_error(too_long_(len + n));
    check_no_nul_(s, n);
    std::memmove(data_ + len, s, n);
    data_[len + n] = '\0';
    return *this;
  }
  static int compare_(const char *a, size_type an, const char *b, size_type bn) noexcept {
    int r = std::char_traits<char>::compare(a, b, an < bn ? an : bn);
    if (r != 0) return r;
    return an < bn ? -1 : (an > bn ? 1 : 0);
  }
  size_type find_(const char *s, size_type pos, size_type n) const noexcept {
    size_type len = size();
    if (n == 0) return pos <= len ? pos : npos;
    /* Unreachable through the public overloads (a null pointer throws first),
     * but GCC's -O2 flow analysis cannot see that and warns about memcmp. */
    if (s == nullptr) return npos;
    for (size_type i = pos; i < len && n <= len - i; ++i)
      if (std::memcmp(data_ + i, s, n) == 0) return i;
    return npos;
  }
  size_type rfind_(const char *s, size_type pos, size_type n) const noexcept {
    size_type len = size();
    if (n > len || (s == nullptr && n > 0)) return npos;
    for (size_type i = clamp_(pos, len - n);; --i) {
      if (std::memcmp(data_ + i, s, n) == 0) return i;
      if (i == 0) return npos;
    }
  }
  /* First position from pos whose character is (in_set) or is not (!in_set) one of s[0, n). */
  size_type first_of_(const char *s, size_type pos, size_type n, bool in_set) const noexcept {
    size_type len = size();
    for (size_type i = pos; i < len; ++i)
      if ((n != 0 && std::memchr(s, data_[i], n) != nullptr) == in_set) return i;
    return npos;
  }
  size_type last_of_(const char *s, size_type pos, size_type n, bool in_set) const noexcept {
    size_type len = size();
    if (len == 0) return npos;
    for (size_type i = clamp_(pos, len - 1);; --i) {
      if ((n != 0 && std::memchr(s, data_[i], n) != nullptr) == in_set) return i;
      if (i == 0) return npos;
    }
  }
#endif /* __cplusplus */
