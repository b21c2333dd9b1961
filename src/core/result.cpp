#include "core/result.h"

namespace freezr {

const char* to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::kGone:
      return "gone";
    case ErrorKind::kPermission:
      return "permission";
    case ErrorKind::kIo:
      return "i/o";
    case ErrorKind::kParse:
      return "parse";
    case ErrorKind::kConfig:
      return "config";
  }
  return "?";
}

}  // namespace freezr
