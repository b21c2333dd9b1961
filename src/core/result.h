// Result<T>: a value or an Error; Result<void>: success or an Error. The one vocabulary of
// failure below start-up (where configuration errors are exceptions): every error has one of a
// closed set of kinds. ENOENT and ESRCH are the normal "process went away" outcome, not a
// failure worth a warning: callers test Error::gone().
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace freezr {

enum class ErrorKind {
  kGone,        // the process or file no longer exists (ENOENT, ESRCH)
  kPermission,  // not allowed (EPERM, EACCES)
  kIo,          // any other system error
  kParse,       // malformed input: /proc text, a request, a ledger row, a time
  kConfig,      // a setting that cannot be used
};
const char* to_string(ErrorKind k);

struct Error {
  Error() = default;
  Error(int error_code, std::string text, std::optional<ErrorKind> kind = std::nullopt)
      : code(error_code), message(std::move(text)), as(kind) {}

  int code = 0;  // errno value, or 0 for a parse/logic error
  std::string message;
  std::optional<ErrorKind> as;  // the kind when it is not the one `code` implies

  [[nodiscard]] ErrorKind kind() const {
    if (as) return *as;
    if (code == ENOENT || code == ESRCH) return ErrorKind::kGone;
    if (code == EPERM || code == EACCES) return ErrorKind::kPermission;
    return code == 0 ? ErrorKind::kParse : ErrorKind::kIo;
  }
  // True when the error only means that the process (or file) no longer exists.
  [[nodiscard]] bool gone() const { return kind() == ErrorKind::kGone; }
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

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

template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Requires !ok().
  [[nodiscard]] const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

inline Error parse_error(std::string message) { return Error{0, std::move(message), {}}; }
inline Error error_of(ErrorKind kind, std::string message) {
  return Error{0, std::move(message), kind};
}

}  // namespace freezr
