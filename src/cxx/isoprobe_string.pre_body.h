#ifdef __cplusplus
 private:
  /* The same bytes as C's `data`. C++ code reaches them through data(), the
   * member function std::string has, which cannot share a name with a field. */
  char data_[ISOPROBE_STRING_CAPACITY];
#else
