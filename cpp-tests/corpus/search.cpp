// Idiom family: taking a field apart. find and its relatives, substr,
// compare, element access, iteration, with std::string's npos and
// std::out_of_range.
#include "server.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "corpus.h"

int main() {
  live_server_info info = {3, 4, 5, "/tmp/info/server-1.info"};
  const auto &p = info.info_file_path;

  std::string::size_type slash = p.rfind('/');
  SHOW(slash);
  SHOW(p.substr(slash + 1));
  SHOW(p.substr(0, slash));
  SHOW(p.substr(slash));
  SHOW(p.substr(p.size()));
  SHOW(p.find(".info"));
  SHOW(p.find('/', 1));
  SHOW(p.find(std::string("info")));
  SHOW(p.find("info", 6));
  SHOW(p.find("infoXX", 0, 4));
  SHOW(p.find(info.info_file_path));
  SHOW(p.rfind("info"));
  SHOW(p.rfind("info", 8));
  SHOW(p.rfind(std::string("/")));
  SHOW(p.find_first_of("/."));
  SHOW(p.find_first_of('.', 12));
  SHOW(p.find_last_of("/."));
  SHOW(p.find_last_of('/', 5));
  SHOW(p.find_first_not_of("/tmp"));
  SHOW(p.find_last_not_of("ofni."));
  SHOW(p.find_first_of(std::string("-")));
  CHECK(p.find("zzz") == std::string::npos);
  CHECK(p.find('x', std::string::npos) == std::string::npos);
  CHECK(p.find("") == 0 && p.find("", p.size()) == p.size() && p.find("", p.size() + 1) == std::string::npos);
  CHECK(p.rfind("") == p.size() && p.find_first_of("") == std::string::npos);

  SHOW(p.compare("/tmp/info/server-1.info"));
  SHOW(p.compare("/tmp") > 0);
  SHOW(p.compare(std::string("/zzz")) < 0);
  SHOW(p.compare(0, 4, "/tmp"));
  SHOW(p.compare(0, 4, std::string("/tmpX"), 0, 4));
  SHOW(p.compare(5, 4, "infoX", 4));
  SHOW(p.compare(info.info_file_path));

  SHOW(p.front());
  SHOW(p.back());
  SHOW(p.at(1));
  SHOW(p[2]);
  SHOW(p.length());
  SHOW(p.size());
  SHOW(p.empty());
  bool threw = false;
  try {
    (void)p.at(1000);
  } catch (const std::out_of_range &) {
    threw = true;
  }
  CHECK(threw);
  threw = false;
  try {
    (void)p.substr(p.size() + 1);
  } catch (const std::out_of_range &) {
    threw = true;
  }
  CHECK(threw);
  threw = false;
  try {
    (void)p.compare(p.size() + 1, 1, "x");
  } catch (const std::out_of_range &) {
    threw = true;
  }
  CHECK(threw);

  int slashes = 0;
  for (char c : info.info_file_path)
    if (c == '/') ++slashes;
  SHOW(slashes);
  SHOW(std::count(p.begin(), p.end(), 'i'));
  SHOW(std::string(p.begin(), p.end()));
  SHOW(std::string(p.rbegin(), p.rend()));
  SHOW(std::find(p.begin(), p.end(), '-') - p.begin());
  std::string upper;
  for (auto it = p.begin(); it != p.end(); ++it) upper += static_cast<char>(*it >= 'a' && *it <= 'z' ? *it - 32 : *it);
  SHOW(upper);
#if __cplusplus >= 202002L
  CHECK(p.starts_with("/tmp") && p.starts_with('/') && !p.starts_with("tmp"));
  CHECK(p.ends_with(".info") && p.ends_with('o') && p.ends_with(std::string_view("1.info")) && !p.ends_with("x"));
#endif
  live_server_info none = {};
  CHECK(none.info_file_path.find_last_of("/") == std::string::npos && none.info_file_path.rfind('x') == std::string::npos);
  CHECK(none.info_file_path.substr(0).empty() && none.info_file_path.find("") == 0);
  return corpus::result();
}
