// Result<T>: a value or an Error, for calls that cross an OS boundary.
// ENOENT and ESRCH are the normal "process went away" outcome, not a failure worth a warning:
// callers test Error::gone().
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace freezr {

struct Error {
  int code = 0;  // errno value, or 0 for a parse/logic error
  std::string message;

  // True when the error only means that the process (or file) no longer exists.
  [[nodiscard]] bool gone() const { return code == ENOENT || code == ESRCH; }
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}       // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}   // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Requires ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Requires !ok().
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error parse_error(std::string message) { return Error{0, std::move(message)}; }

}  // namespace freezr
