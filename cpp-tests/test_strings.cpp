// isoprobe_string against std::string: every read-only member gives
// std::string's answer on the same content (npos, std::out_of_range
// included), and the capacity and NUL rules refuse without changing the
// field.
#include "server.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

const std::vector<std::string> kTexts = {"", "a", "/tmp/info/server-1.info", "aaaa", "abcabcab", "x.y.z/"};
const std::vector<std::string> kNeedles = {"", "a", "ab", "abc", "/", "info", ".", "/.", "zz", "aaaaa", "b/"};

std::vector<std::size_t> positions(std::size_t size) {
  std::vector<std::size_t> p;
  for (std::size_t i = 0; i <= size + 2; ++i) p.push_back(i);
  p.push_back(std::string::npos);
  return p;
}

isoprobe_string field(const std::string &s) {
  isoprobe_string f = s;
  return f;
}

// The result of f, or "out_of_range" when it threw that.
template <class F>
std::string outcome(F f) {
  try {
    return std::to_string(f());
  } catch (const std::out_of_range &) {
    return "out_of_range";
  }
}

TEST(Strings, SearchingMatchesStdString) {
  for (const std::string &text : kTexts) {
    const isoprobe_string f = field(text);
    for (const std::string &needle : kNeedles) {
      for (std::size_t pos : positions(text.size())) {
        SCOPED_TRACE("\"" + text + "\" / \"" + needle + "\" at " + std::to_string(pos));
        EXPECT_EQ(f.find(needle, pos), text.find(needle, pos));
        EXPECT_EQ(f.find(needle.c_str(), pos), text.find(needle.c_str(), pos));
        EXPECT_EQ(f.find(std::string_view(needle), pos), text.find(std::string_view(needle), pos));
        EXPECT_EQ(f.rfind(needle, pos), text.rfind(needle, pos));
        EXPECT_EQ(f.rfind(needle.c_str(), pos, needle.size()), text.rfind(needle.c_str(), pos, needle.size()));
        EXPECT_EQ(f.find_first_of(needle, pos), text.find_first_of(needle, pos));
        EXPECT_EQ(f.find_last_of(needle, pos), text.find_last_of(needle, pos));
        EXPECT_EQ(f.find_first_not_of(needle, pos), text.find_first_not_of(needle, pos));
        EXPECT_EQ(f.find_last_not_of(needle, pos), text.find_last_not_of(needle, pos));
        if (!needle.empty()) {
          EXPECT_EQ(f.find(needle[0], pos), text.find(needle[0], pos));
          EXPECT_EQ(f.rfind(needle[0], pos), text.rfind(needle[0], pos));
          EXPECT_EQ(f.find_first_of(needle[0], pos), text.find_first_of(needle[0], pos));
          EXPECT_EQ(f.find_last_not_of(needle[0], pos), text.find_last_not_of(needle[0], pos));
        }
      }
    }
  }
}

TEST(Strings, SubstrCompareAndAccessMatchStdString) {
  auto sign = [](int r) { return r < 0 ? -1 : (r > 0 ? 1 : 0); };
  for (const std::string &text : kTexts) {
    const isoprobe_string f = field(text);
    for (std::size_t pos : positions(text.size())) {
      for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::string::npos}) {
        SCOPED_TRACE("\"" + text + "\" pos " + std::to_string(pos) + " n " + std::to_string(n));
        auto sub = [](const auto &s, std::size_t p, std::size_t k) {
          try {
            return std::string(s.substr(p, k));
          } catch (const std::out_of_range &) {
            return std::string("out_of_range");
          }
        };
        EXPECT_EQ(sub(f, pos, n), sub(text, pos, n));
        for (const std::string &other : kNeedles) {
          EXPECT_EQ(outcome([&] { return sign(f.compare(pos, n, other)); }),
                    outcome([&] { return sign(text.compare(pos, n, other)); }));
          EXPECT_EQ(outcome([&] { return sign(f.compare(pos, n, other, 1, n)); }),
                    outcome([&] { return sign(text.compare(pos, n, other, 1, n)); }));
          EXPECT_EQ(outcome([&] { return sign(f.compare(pos, n, other.c_str(), other.size())); }),
                    outcome([&] { return sign(text.compare(pos, n, other.c_str(), other.size())); }));
        }
      }
      EXPECT_EQ(outcome([&] { return int(f.at(pos)); }), outcome([&] { return int(text.at(pos)); }));
    }
    for (const std::string &other : kTexts) {
      SCOPED_TRACE("\"" + text + "\" vs \"" + other + "\"");
      const isoprobe_string g = field(other);
      EXPECT_EQ(sign(f.compare(other)), sign(text.compare(other)));
      EXPECT_EQ(sign(f.compare(g)), sign(text.compare(other)));
      EXPECT_EQ(f == g, text == other);
      EXPECT_EQ(f < g, text < other);
      EXPECT_EQ(f <= other, text <= other);
      EXPECT_EQ(other.c_str() > f, other > text);
      EXPECT_EQ(std::string_view(other) >= f, other >= text);
#if __cplusplus >= 202002L
      EXPECT_EQ(f <=> g, text <=> other);
      EXPECT_EQ(other <=> f, other <=> text);
      EXPECT_EQ(f <=> other.c_str(), text <=> other.c_str());
      EXPECT_EQ(std::string_view(other) <=> f, std::string_view(other) <=> text);
#endif
      EXPECT_EQ(f + g, text + other);
      EXPECT_EQ(f + other.c_str(), text + other);
      EXPECT_EQ(other + f, other + text);
    }
    EXPECT_EQ(f.size(), text.size());
    EXPECT_EQ(f.empty(), text.empty());
    EXPECT_EQ(std::string(f.begin(), f.end()), text);
    EXPECT_EQ(std::string(f.rbegin(), f.rend()), std::string(text.rbegin(), text.rend()));
    EXPECT_EQ(std::hash<isoprobe_string>()(f), std::hash<std::string>()(text));
    if (!text.empty()) {
      EXPECT_EQ(f.front(), text.front());
      EXPECT_EQ(f.back(), text.back());
    }
#if __cplusplus >= 202002L
    for (const std::string &needle : kNeedles) {
      EXPECT_EQ(f.starts_with(needle), text.starts_with(needle));
      EXPECT_EQ(f.ends_with(needle.c_str()), text.ends_with(needle.c_str()));
    }
#endif
  }
}

TEST(Strings, CapacityIsExactAndRefusalsKeepTheOldValue) {
  isoprobe_string f = "keep";
  const std::string exactly(isoprobe_string::capacity(), 'a');
  const std::string one_past(isoprobe_string::capacity() + 1, 'a');
  EXPECT_EQ(isoprobe_string::capacity(), std::size_t{ISOPROBE_STRING_CAPACITY - 1});
  EXPECT_THROW(f = one_past, std::length_error);
  EXPECT_THROW(f = one_past.c_str(), std::length_error);
  EXPECT_THROW(f = std::string_view(one_past), std::length_error);
  EXPECT_THROW(f.assign(one_past.c_str(), one_past.size()), std::length_error);
  EXPECT_THROW((void)isoprobe_string(one_past), std::length_error);
  EXPECT_EQ(f, "keep");
  f += exactly.substr(4);
  EXPECT_EQ(f.size(), isoprobe_string::capacity());
  EXPECT_THROW(f += "b", std::length_error);
  EXPECT_THROW(f += 'b', std::length_error);
  EXPECT_THROW(f.push_back('b'), std::length_error);
  EXPECT_THROW(f.append("b", 1), std::length_error);
  EXPECT_EQ(f.size(), isoprobe_string::capacity());
  EXPECT_EQ(f.substr(0, 4), "keep");
  f = "ab";
  EXPECT_THROW(f.resize(isoprobe_string::capacity() + 1, 'x'), std::length_error);
  EXPECT_THROW(f.resize(5), std::invalid_argument) << "growing pads with NUL bytes";
  EXPECT_THROW(f.reserve(isoprobe_string::capacity() + 1), std::length_error);
  EXPECT_NO_THROW(f.reserve(isoprobe_string::capacity()));
  EXPECT_EQ(f, "ab");
  f.resize(isoprobe_string::capacity(), 'x');
  EXPECT_EQ(f.size(), isoprobe_string::capacity());
  f.resize(1);
  EXPECT_EQ(f, "a");
}

TEST(Strings, AnUnterminatedBufferIsNeverWrittenPast) {
  live_server_info raw;
  std::memset(raw.info_file_path.data(), 'u', sizeof raw.info_file_path);  // as C code could leave it
  EXPECT_EQ(raw.info_file_path.size(), sizeof raw.info_file_path);
  EXPECT_THROW(raw.info_file_path += "x", std::length_error);
  EXPECT_THROW(raw.info_file_path.push_back('x'), std::length_error);
  EXPECT_THROW(raw.info_file_path.resize(sizeof raw.info_file_path, 'x'), std::length_error);
  raw.info_file_path.resize(3);
  EXPECT_EQ(raw.info_file_path, "uuu");
}

TEST(Strings, NulBytesAndNullPointersAreRefused) {
  isoprobe_string f = "keep";
  EXPECT_THROW(f = std::string("a\0b", 3), std::invalid_argument);
  EXPECT_THROW(f += std::string("\0", 1), std::invalid_argument);
  EXPECT_THROW(f = '\0', std::invalid_argument);
  EXPECT_THROW(f.push_back('\0'), std::invalid_argument);
  const char *null = nullptr;
  EXPECT_THROW(f = null, std::invalid_argument);
  EXPECT_THROW((void)(f == null), std::invalid_argument);
  EXPECT_THROW((void)(f + null), std::invalid_argument);
  EXPECT_THROW((void)f.find(null), std::invalid_argument);
  EXPECT_EQ(f, "keep");
}

TEST(Strings, StreamsReadLikeStdString) {
  isoprobe_string f = "keep";
  std::istringstream too_long(std::string(isoprobe_string::capacity() + 1, 'w') + "\nnext\n");
  EXPECT_THROW(std::getline(too_long, f), std::length_error);
  EXPECT_EQ(f, "keep");
  ASSERT_TRUE(std::getline(too_long, f)) << "the long line was consumed; the stream goes on";
  EXPECT_EQ(f, "next");
  std::istringstream word(std::string(isoprobe_string::capacity() + 1, 'w'));
  EXPECT_THROW(word >> f, std::length_error);
  EXPECT_EQ(f, "next");

  for (const std::string &input : {std::string(""), std::string("\n"), std::string("a b\nc"), std::string("  x  ")}) {
    SCOPED_TRACE("input \"" + input + "\"");
    std::istringstream a(input), b(input);
    std::string s = "old";
    isoprobe_string g = "old";
    while (true) {
      bool sa = static_cast<bool>(std::getline(a, s, ' '));
      bool sb = static_cast<bool>(std::getline(b, g, ' '));
      EXPECT_EQ(sa, sb);
      EXPECT_EQ(g, s);
      EXPECT_EQ(a.rdstate(), b.rdstate());
      if (!sa || !sb) break;
    }
    std::istringstream c(input), d(input);
    s = "old";
    g = "old";
    while (true) {
      bool sc = static_cast<bool>(c >> s);
      bool sd = static_cast<bool>(d >> g);
      EXPECT_EQ(sc, sd);
      EXPECT_EQ(g, s);
      EXPECT_EQ(c.rdstate(), d.rdstate());
      if (!sc || !sd) break;
    }
  }
}

}  // namespace
