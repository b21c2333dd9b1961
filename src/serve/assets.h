// The dashboard's files, compiled into the binary (nothing is fetched at build or run time).
#pragma once

#include <optional>
#include <string>

#include "serve/http.h"

namespace freezr::serve {

// The file at path ("/", "/app.js", "/vendor/uPlot.iife.min.js", ..., and the API's OpenAPI
// description at /api/v1/openapi.json, its version "{{version}}"), or nullopt.
std::optional<Response> dashboard_asset(const std::string& path);

}  // namespace freezr::serve
