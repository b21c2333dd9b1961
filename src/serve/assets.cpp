#include "serve/assets.h"

#include <map>
#include <string_view>

namespace freezr {
std::string_view web_index_html();
std::string_view web_app_js();
std::string_view web_app_css();
std::string_view web_uplot_js();
std::string_view web_uplot_css();
std::string_view openapi_json();
}  // namespace freezr

namespace freezr::serve {

std::optional<Response> dashboard_asset(const std::string& path) {
  struct File {
    std::string_view (*text)();
    const char* type;
  };
  static const std::map<std::string, File> kFiles = {
      {"/", {web_index_html, "text/html; charset=utf-8"}},
      {"/index.html", {web_index_html, "text/html; charset=utf-8"}},
      {"/app.js", {web_app_js, "text/javascript; charset=utf-8"}},
      {"/app.css", {web_app_css, "text/css; charset=utf-8"}},
      {"/vendor/uPlot.iife.min.js", {web_uplot_js, "text/javascript; charset=utf-8"}},
      {"/vendor/uPlot.min.css", {web_uplot_css, "text/css; charset=utf-8"}},
  };
  if (path == "/favicon.ico" || path == "/favicon.svg") {
    Response r;
    r.content_type = "image/svg+xml";
    r.body =
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' "
        "rx='3' fill='#2e90fa'/><path d='M4 4h8v2H6v2h5v2H6v2H4z' fill='#fff'/></svg>";
    return r;
  }
  if (path == "/api/v1/openapi.json") {
    Response r;
    r.body = std::string(openapi_json());
    return r;
  }
  auto it = kFiles.find(path);
  if (it == kFiles.end()) return std::nullopt;
  Response r;
  r.content_type = it->second.type;
  r.body = std::string(it->second.text());
  r.headers["Content-Security-Policy"] =
      "default-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'";
  return r;
}

}  // namespace freezr::serve
