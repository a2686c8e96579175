// A private directory under /tmp for a corpus program, removed again on every
// path (with the one file it was told it will hold, if any). POSIX and the
// standard library only, like corpus.h, so both builds of a program share it.
#ifndef CORPUS_SCRATCH_DIR_H
#define CORPUS_SCRATCH_DIR_H

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace corpus {
class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/isoprobe-corpus-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    if (!file_.empty()) unlink(file_.c_str());
    rmdir(path_.c_str());
  }
  ScratchDir(const ScratchDir &) = delete;
  ScratchDir &operator=(const ScratchDir &) = delete;
  const std::string &path() const { return path_; }
  // A file the program creates inside and does not remove itself.
  void will_hold(const std::string &file) { file_ = file; }

 private:
  std::string path_, file_;
};
}  // namespace corpus

#endif
