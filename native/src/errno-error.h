#pragma once
#include <napi.h>
#include <string>

namespace outpost {

// Builds a JS Error shaped like Node's own system errors (code, errno, syscall,
// path) so TypeScript callers can match on `code` exactly as they do for fs errors.
Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall,
                       const std::string& path = "");

}  // namespace outpost
