#include "js-args.h"

namespace outpost {

int32_t IntArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[index].As<Napi::Number>().Int32Value();
}

int64_t Int64Field(const Napi::Object& obj, const char* name, int64_t fallback) {
  Napi::Value v = obj.Get(name);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string(name) + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

std::string StringField(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsString()) throw Napi::TypeError::New(obj.Env(), std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<int32_t> IntArray(Napi::Env env, const Napi::Value& value, const char* name) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(name) + " must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int32_t> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber())
      throw Napi::TypeError::New(env, std::string(name) + " must hold numbers");
    out.push_back(item.As<Napi::Number>().Int32Value());
  }
  return out;
}

std::vector<std::string> StringArray(Napi::Env env, const Napi::Value& value, const char* name) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(name) + " must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString())
      throw Napi::TypeError::New(env, std::string(name) + " must hold strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

}  // namespace outpost
