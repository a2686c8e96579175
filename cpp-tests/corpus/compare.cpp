// Idiom family: comparing fields and using them as keys: the six operators
// with every string type both ways, sorting, std::map, std::set,
// std::unordered_map and std::hash.
#include "server.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#if __cplusplus >= 201703L
#include <string_view>
#endif

#include "corpus.h"

int main() {
  live_server_info a = {1, 2, 3, "/tmp/b.info"};
  live_server_info b = {1, 2, 3, "/tmp/a.info"};
  const std::string s = "/tmp/b.info";
  const char *c = "/tmp/c.info";

  CHECK(a.info_file_path == s && s == a.info_file_path && !(a.info_file_path != s) && !(s != a.info_file_path));
  CHECK(a.info_file_path == "/tmp/b.info" && "/tmp/b.info" == a.info_file_path);
  CHECK(a.info_file_path != c && c != a.info_file_path);
  CHECK(a.info_file_path < c && c > a.info_file_path && a.info_file_path <= c && c >= a.info_file_path);
  CHECK(b.info_file_path < s && s > b.info_file_path && b.info_file_path <= s && s >= b.info_file_path);
  CHECK(a.info_file_path <= s && a.info_file_path >= s && !(a.info_file_path < s) && !(a.info_file_path > s));
  CHECK(b.info_file_path < a.info_file_path && a.info_file_path > b.info_file_path);
  CHECK(b.info_file_path <= a.info_file_path && a.info_file_path >= b.info_file_path && a.info_file_path != b.info_file_path);
  CHECK(!(a.info_file_path == b.info_file_path) && a.info_file_path == a.info_file_path);
  CHECK(a.info_file_path > "/tmp/b" && a.info_file_path < "/tmp/b.infoo" && "/tmp/b" < a.info_file_path);
#if __cplusplus >= 201703L
  std::string_view v = "/tmp/b.info";
  CHECK(a.info_file_path == v && v == a.info_file_path && b.info_file_path < v && v > b.info_file_path);
  CHECK(b.info_file_path != v && v != b.info_file_path && a.info_file_path <= v && v >= b.info_file_path);
#endif
#if __cplusplus >= 202002L
  CHECK((a.info_file_path <=> s) == 0 && (s <=> a.info_file_path) == 0 && (b.info_file_path <=> a.info_file_path) < 0);
  CHECK((a.info_file_path <=> c) < 0 && (c <=> a.info_file_path) > 0 && (v <=> b.info_file_path) > 0);
  CHECK((a.info_file_path <=> b.info_file_path) > 0 && (a.info_file_path <=> v) == 0);
#endif
  SHOW(a.info_file_path == s);
  SHOW(a.info_file_path < b.info_file_path);
  SHOW(std::max(a.info_file_path, b.info_file_path));
  SHOW(std::min(a.info_file_path, b.info_file_path));

  std::vector<live_server_info> servers = {a, b, {1, 2, 3, "/tmp/0.info"}, {1, 2, 3, "/tmp/c.info"}};
  std::sort(servers.begin(), servers.end(),
            [](const live_server_info &x, const live_server_info &y) { return x.info_file_path < y.info_file_path; });
  for (const live_server_info &server : servers) SHOW(server.info_file_path);
  auto found = std::find_if(servers.begin(), servers.end(),
                            [&](const live_server_info &x) { return x.info_file_path == s; });
  SHOW(found - servers.begin());

  std::map<std::string, int> by_path;
  for (const live_server_info &server : servers) by_path[server.info_file_path] += server.shmid;
  by_path[a.info_file_path] += 10;
  CHECK(by_path.count(a.info_file_path) == 1 && by_path.find(b.info_file_path) != by_path.end());
  for (const auto &entry : by_path) std::cout << entry.first << " -> " << entry.second << "\n";

  std::set<std::string> names;
  names.insert(a.info_file_path);
  names.insert(b.info_file_path);
  names.insert(a.info_file_path);
  SHOW(names.size());
  CHECK(names.count(b.info_file_path) == 1);

  std::unordered_map<std::string, int> counts;
  ++counts[a.info_file_path];
  ++counts[a.info_file_path];
  SHOW(counts[s]);

  // A set of the field's own type: std::hash of the field, the same as the string's.
  std::unordered_set<decltype(a.info_file_path)> same_type;
  same_type.insert(a.info_file_path);
  same_type.insert(b.info_file_path);
  same_type.insert(a.info_file_path);
  SHOW(same_type.size());
  CHECK(same_type.count(b.info_file_path) == 1);
  std::hash<decltype(a.info_file_path)> hash_field;
  CHECK(hash_field(a.info_file_path) == std::hash<std::string>()(s));
  CHECK(hash_field(a.info_file_path) != hash_field(b.info_file_path));
  return corpus::result();
}
