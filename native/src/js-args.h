#pragma once
// Argument reading shared by the addon's functions. The TypeScript facade validates
// everything first; these checks only keep a direct caller from crashing the process.
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace outpost {

int32_t IntArg(const Napi::CallbackInfo& info, size_t index, const char* name);
int64_t Int64Field(const Napi::Object& obj, const char* name, int64_t fallback);
std::string StringField(const Napi::Object& obj, const char* name);
std::vector<int32_t> IntArray(Napi::Env env, const Napi::Value& value, const char* name);
std::vector<std::string> StringArray(Napi::Env env, const Napi::Value& value, const char* name);

}  // namespace outpost
